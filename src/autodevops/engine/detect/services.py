"""Backing services a project needs for its tests (postgres, redis...): the tables and the rules.

Pure lookups that every ecosystem's detector uses:

- `services_from_dependencies(ecosystem, names)`: database/queue client libraries among a project's dependencies
  (`psycopg` → postgres, `github.com/redis/go-redis/v9` → redis, `org.postgresql:postgresql` → postgres...).
- `services_of_package(ecosystem, name)`: the service a project is itself the client library of.
- `service_from_image(image)`: the service a container image provides (`postgres:16-alpine` → postgres).
- `services_from_env(text)`: service URLs and variables in `.env.example`-style files and settings.

A client library alone is weak evidence that tests need a running server (a Redis client's own test suite does;
an ORM with optional drivers does not), so detectors decide how much weight to give each source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from autodevops.engine.model import Service

Ecosystem = str  # "python", "node", "go", "rust", "java", "ruby", "php", "dotnet", "elixir"

# Testcontainers modules: a test suite that depends on one starts that server in a container (as CI's service
# containers would), so the module names the service. Modules of servers outside the vocabulary are "other";
# integration packages (Testcontainers.Xunit, junit-jupiter) name no server and are left out.
_TESTCONTAINERS_DOTNET: dict[str, Service] = {
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mariadb",
    "redis": "redis",
    "mongodb": "mongodb",
    "rabbitmq": "rabbitmq",
    "elasticsearch": "elasticsearch",
    "kafka": "kafka",
    "nats": "nats",
    "minio": "minio",
    "mssql": "other",
    "azurite": "other",
    "cosmosdb": "other",
    "localstack": "other",
    "oracle": "other",
    "cassandra": "other",
    "clickhouse": "other",
    "couchdb": "other",
    "keycloak": "other",
}
_TESTCONTAINERS_JAVA: dict[str, Service] = {
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mariadb",
    "mongodb": "mongodb",
    "rabbitmq": "rabbitmq",
    "elasticsearch": "elasticsearch",
    "kafka": "kafka",
    "redpanda": "kafka",
    "minio": "minio",
    "mssqlserver": "other",
    "oracle-xe": "other",
    "oracle-free": "other",
    "cassandra": "other",
    "neo4j": "other",
    "localstack": "other",
    "couchbase": "other",
    "clickhouse": "other",
    "db2": "other",
    "cockroachdb": "other",
    "pulsar": "other",
}
_TESTCONTAINERS_GO: dict[str, Service] = {
    "postgres": "postgres",
    "mysql": "mysql",
    "mariadb": "mariadb",
    "redis": "redis",
    "valkey": "redis",
    "mongodb": "mongodb",
    "rabbitmq": "rabbitmq",
    "elasticsearch": "elasticsearch",
    "opensearch": "other",
    "kafka": "kafka",
    "redpanda": "kafka",
    "nats": "nats",
    "minio": "minio",
    "mssql": "other",
    "localstack": "other",
    "cassandra": "other",
    "clickhouse": "other",
    "etcd": "other",
}
TESTCONTAINERS_NODE: dict[str, Service] = {
    "@testcontainers/postgresql": "postgres",
    "@testcontainers/mysql": "mysql",
    "@testcontainers/mariadb": "mariadb",
    "@testcontainers/redis": "redis",
    "@testcontainers/valkey": "redis",
    "@testcontainers/mongodb": "mongodb",
    "@testcontainers/rabbitmq": "rabbitmq",
    "@testcontainers/elasticsearch": "elasticsearch",
    "@testcontainers/kafka": "kafka",
    "@testcontainers/redpanda": "kafka",
    "@testcontainers/nats": "nats",
    "@testcontainers/minio": "minio",
    "@testcontainers/mssqlserver": "other",
    "@testcontainers/localstack": "other",
    "@testcontainers/clickhouse": "other",
}

# Exact package names per ecosystem (compared case-insensitively; Python names are PEP 503-normalized).
DRIVERS: dict[str, dict[str, Service]] = {
    "python": {
        "psycopg": "postgres",
        "psycopg2": "postgres",
        "psycopg2-binary": "postgres",
        "psycopg-binary": "postgres",
        "psycopg-pool": "postgres",
        "asyncpg": "postgres",
        "pg8000": "postgres",
        "aiopg": "postgres",
        "mysqlclient": "mysql",
        "pymysql": "mysql",
        "mysql-connector-python": "mysql",
        "aiomysql": "mysql",
        "asyncmy": "mysql",
        "mariadb": "mariadb",
        "redis": "redis",
        "aioredis": "redis",
        "hiredis": "redis",
        "django-redis": "redis",
        "valkey": "redis",
        "pymongo": "mongodb",
        "motor": "mongodb",
        "mongoengine": "mongodb",
        "beanie": "mongodb",
        "pika": "rabbitmq",
        "aio-pika": "rabbitmq",
        "aiormq": "rabbitmq",
        "elasticsearch": "elasticsearch",
        "elasticsearch-dsl": "elasticsearch",
        "opensearch-py": "other",
        "pymemcache": "memcached",
        "python-memcached": "memcached",
        "pylibmc": "memcached",
        "kafka-python": "kafka",
        "confluent-kafka": "kafka",
        "aiokafka": "kafka",
        "nats-py": "nats",
        "minio": "minio",
    },
    "node": {
        "pg": "postgres",
        "postgres": "postgres",
        "pg-promise": "postgres",
        "@neondatabase/serverless": "postgres",
        "mysql": "mysql",
        "mysql2": "mysql",
        "mariadb": "mariadb",
        "redis": "redis",
        "ioredis": "redis",
        "@redis/client": "redis",
        "bullmq": "redis",
        "mongodb": "mongodb",
        "mongoose": "mongodb",
        "amqplib": "rabbitmq",
        "amqp-connection-manager": "rabbitmq",
        "@elastic/elasticsearch": "elasticsearch",
        "@opensearch-project/opensearch": "other",
        "memcached": "memcached",
        "memjs": "memcached",
        "kafkajs": "kafka",
        "nats": "nats",
        "minio": "minio",
    },
    "rust": {
        "postgres": "postgres",
        "tokio-postgres": "postgres",
        "mysql": "mysql",
        "mysql_async": "mysql",
        "redis": "redis",
        "fred": "redis",
        "mongodb": "mongodb",
        "lapin": "rabbitmq",
        "elasticsearch": "elasticsearch",
        "memcache": "memcached",
        "rdkafka": "kafka",
        "async-nats": "nats",
        "nats": "nats",
    },
    "java": {
        # group:artifact, and the artifact alone (Gradle catalogs and partial coordinates)
        "org.postgresql:postgresql": "postgres",
        "org.postgresql:r2dbc-postgresql": "postgres",
        "mysql:mysql-connector-java": "mysql",
        "com.mysql:mysql-connector-j": "mysql",
        "org.mariadb.jdbc:mariadb-java-client": "mariadb",
        "redis.clients:jedis": "redis",
        "io.lettuce:lettuce-core": "redis",
        "org.redisson:redisson": "redis",
        "org.springframework.boot:spring-boot-starter-data-redis": "redis",
        "org.mongodb:mongodb-driver-sync": "mongodb",
        "org.mongodb:mongodb-driver-reactivestreams": "mongodb",
        "org.springframework.boot:spring-boot-starter-data-mongodb": "mongodb",
        "com.rabbitmq:amqp-client": "rabbitmq",
        "org.springframework.boot:spring-boot-starter-amqp": "rabbitmq",
        "co.elastic.clients:elasticsearch-java": "elasticsearch",
        "org.springframework.boot:spring-boot-starter-data-elasticsearch": "elasticsearch",
        "net.spy:spymemcached": "memcached",
        "org.apache.kafka:kafka-clients": "kafka",
        "org.springframework.kafka:spring-kafka": "kafka",
        "io.nats:jnats": "nats",
        "io.minio:minio": "minio",
        # Quarkus extensions whose Dev Services start the server in a container for the tests.
        "io.quarkus:quarkus-jdbc-postgresql": "postgres",
        "io.quarkus:quarkus-reactive-pg-client": "postgres",
        "io.quarkus:quarkus-jdbc-mysql": "mysql",
        "io.quarkus:quarkus-reactive-mysql-client": "mysql",
        "io.quarkus:quarkus-jdbc-mariadb": "mariadb",
        "io.quarkus:quarkus-mongodb-client": "mongodb",
        "io.quarkus:quarkus-mongodb-panache": "mongodb",
        "io.quarkus:quarkus-redis-client": "redis",
        "io.quarkus:quarkus-elasticsearch-java-client": "elasticsearch",
        "io.quarkus:quarkus-elasticsearch-rest-client": "elasticsearch",
        "io.quarkus:quarkus-hibernate-search-orm-elasticsearch": "elasticsearch",
        "io.quarkus:quarkus-kafka-client": "kafka",
        "io.quarkus:quarkus-messaging-kafka": "kafka",
        "io.quarkus:quarkus-smallrye-reactive-messaging-kafka": "kafka",
        "io.quarkus:quarkus-messaging-rabbitmq": "rabbitmq",
        # Testcontainers modules start the server in a container for the tests (1.x and 2.x artifact names).
        **{f"org.testcontainers:{module}": service for module, service in _TESTCONTAINERS_JAVA.items()},
        **{f"org.testcontainers:testcontainers-{module}": service for module, service in _TESTCONTAINERS_JAVA.items()},
    },
    "ruby": {
        "pg": "postgres",
        "mysql2": "mysql",
        "trilogy": "mysql",
        "redis": "redis",
        "redis-client": "redis",
        "hiredis": "redis",
        "sidekiq": "redis",
        "mongo": "mongodb",
        "mongoid": "mongodb",
        "bunny": "rabbitmq",
        # searchkick talks to whichever client gem sits beside it (its README has the Gemfile pick one), so the
        # client gem names the server, not searchkick.
        "elasticsearch": "elasticsearch",
        "opensearch-ruby": "other",
        "dalli": "memcached",
        "ruby-kafka": "kafka",
        "rdkafka": "kafka",
        "nats-pure": "nats",
    },
    "php": {
        "ext-pgsql": "postgres",
        "ext-pdo_pgsql": "postgres",
        "ext-mysqli": "mysql",
        "ext-pdo_mysql": "mysql",
        "predis/predis": "redis",
        "ext-redis": "redis",
        "mongodb/mongodb": "mongodb",
        "ext-mongodb": "mongodb",
        "php-amqplib/php-amqplib": "rabbitmq",
        "ext-amqp": "rabbitmq",
        "elasticsearch/elasticsearch": "elasticsearch",
        "ext-memcached": "memcached",
        "ext-rdkafka": "kafka",
    },
    "dotnet": {
        "npgsql": "postgres",
        "npgsql.entityframeworkcore.postgresql": "postgres",
        "mysql.data": "mysql",
        "mysqlconnector": "mysql",
        "pomelo.entityframeworkcore.mysql": "mysql",
        "stackexchange.redis": "redis",
        "mongodb.driver": "mongodb",
        "rabbitmq.client": "rabbitmq",
        "elastic.clients.elasticsearch": "elasticsearch",
        "nest": "elasticsearch",
        "enyimmemcachedcore": "memcached",
        "confluent.kafka": "kafka",
        "nats.client": "nats",
        "nats.net": "nats",
        "minio": "minio",
        **{f"testcontainers.{module}": service for module, service in _TESTCONTAINERS_DOTNET.items()},
    },
    "elixir": {
        "postgrex": "postgres",
        "myxql": "mysql",
        "redix": "redis",
        "mongodb_driver": "mongodb",
        "amqp": "rabbitmq",
        "elasticsearch": "elasticsearch",
        "memcachex": "memcached",
        "brod": "kafka",
        "kafka_ex": "kafka",
        "gnat": "nats",
    },
}

# Go module paths match by prefix: major-version suffixes (/v9) and subpackages vary.
GO_MODULE_PREFIXES: tuple[tuple[str, Service], ...] = (
    ("github.com/lib/pq", "postgres"),
    ("github.com/jackc/pgx", "postgres"),
    ("github.com/go-pg/pg", "postgres"),
    ("github.com/go-sql-driver/mysql", "mysql"),
    ("github.com/redis/go-redis", "redis"),
    ("github.com/go-redis/redis", "redis"),
    ("github.com/redis/rueidis", "redis"),
    ("github.com/gomodule/redigo", "redis"),
    ("go.mongodb.org/mongo-driver", "mongodb"),
    ("github.com/rabbitmq/amqp091-go", "rabbitmq"),
    ("github.com/streadway/amqp", "rabbitmq"),
    ("github.com/elastic/go-elasticsearch", "elasticsearch"),
    ("github.com/olivere/elastic", "elasticsearch"),
    ("github.com/bradfitz/gomemcache", "memcached"),
    ("github.com/segmentio/kafka-go", "kafka"),
    ("github.com/ibm/sarama", "kafka"),
    ("github.com/shopify/sarama", "kafka"),
    ("github.com/confluentinc/confluent-kafka-go", "kafka"),
    ("github.com/twmb/franz-go", "kafka"),
    ("github.com/nats-io/nats.go", "nats"),
    ("github.com/minio/minio-go", "minio"),
    *((f"github.com/testcontainers/testcontainers-go/modules/{m}", sv) for m, sv in _TESTCONTAINERS_GO.items()),
)

# Container images (repository name without registry host, tag or digest) → service.
IMAGES: dict[str, Service] = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "postgis/postgis": "postgres",
    "bitnami/postgresql": "postgres",
    "timescale/timescaledb": "postgres",
    "pgvector/pgvector": "postgres",
    "mysql": "mysql",
    "mysql/mysql-server": "mysql",
    "bitnami/mysql": "mysql",
    "percona": "mysql",
    "mariadb": "mariadb",
    "bitnami/mariadb": "mariadb",
    "redis": "redis",
    "redis/redis-stack": "redis",
    "redis/redis-stack-server": "redis",
    "bitnami/redis": "redis",
    "valkey/valkey": "redis",
    "eqalpha/keydb": "redis",
    "mongo": "mongodb",
    "mongodb/mongodb-community-server": "mongodb",
    "bitnami/mongodb": "mongodb",
    "rabbitmq": "rabbitmq",
    "bitnami/rabbitmq": "rabbitmq",
    "elasticsearch": "elasticsearch",
    "elasticsearch/elasticsearch": "elasticsearch",
    # OpenSearch forked from Elasticsearch 7.10 and has diverged since: an Elasticsearch container does not
    # stand in for it, so it is a server outside the vocabulary.
    "opensearchproject/opensearch": "other",
    "bitnami/elasticsearch": "elasticsearch",
    "memcached": "memcached",
    "bitnami/memcached": "memcached",
    "confluentinc/cp-kafka": "kafka",
    "bitnami/kafka": "kafka",
    "apache/kafka": "kafka",
    "wurstmeister/kafka": "kafka",
    "redpandadata/redpanda": "kafka",
    "nats": "nats",
    "minio/minio": "minio",
    "bitnami/minio": "minio",
}

# URL schemes and well-known variable names in .env files, settings and test configs.
URL_SCHEMES: dict[str, Service] = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "postgis": "postgres",
    "mysql": "mysql",
    "mysql2": "mysql",
    "mariadb": "mariadb",
    "redis": "redis",
    "rediss": "redis",
    "valkey": "redis",
    "mongodb": "mongodb",
    "mongodb+srv": "mongodb",
    "amqp": "rabbitmq",
    "amqps": "rabbitmq",
    "nats": "nats",
    "memcached": "memcached",
}
ENV_PREFIXES: tuple[tuple[str, Service], ...] = (
    ("POSTGRES_", "postgres"),
    ("PGHOST", "postgres"),
    ("MYSQL_", "mysql"),
    ("MARIADB_", "mariadb"),
    ("REDIS_", "redis"),
    ("MONGO_", "mongodb"),
    ("MONGODB_", "mongodb"),
    ("RABBITMQ_", "rabbitmq"),
    ("AMQP_", "rabbitmq"),
    ("ELASTICSEARCH_", "elasticsearch"),
    ("OPENSEARCH_", "other"),
    ("MEMCACHED_", "memcached"),
    ("MEMCACHE_", "memcached"),
    ("KAFKA_", "kafka"),
    ("NATS_", "nats"),
    ("MINIO_", "minio"),
)
# Framework settings that name a database driver (Laravel DB_CONNECTION, Django ENGINE, Rails adapter).
DRIVER_WORDS: dict[str, Service] = {
    "pgsql": "postgres",
    "postgresql": "postgres",
    "postgres": "postgres",
    "postgresql_psycopg2": "postgres",
    "postgis": "postgres",
    "mysql": "mysql",
    "mysql2": "mysql",
    "trilogy": "mysql",
    "mariadb": "mariadb",
}

_NORMALIZE = re.compile(r"[-_.]+")
_BARE_TESTCONTAINERS = re.compile(r"org\.testcontainers:(?!testcontainers-)")


def _norm(ecosystem: str, name: str) -> str:
    name = name.strip().lower()
    if ecosystem == "python":
        return _NORMALIZE.sub("-", name)
    return name


def services_from_dependencies(ecosystem: Ecosystem, names: Iterable[str]) -> list[tuple[Service, str]]:
    """(service, dependency name) for every client library of a backing service among `names`.

    `ecosystem` is one of python, node, go, rust, java, ruby, php, dotnet, elixir. Java names are
    `group:artifact` (an artifact alone also matches); Go names are module paths.
    """
    out: list[tuple[Service, str]] = []
    seen: set[tuple[Service, str]] = set()
    if ecosystem == "go":
        for name in names:
            low = name.strip().lower()
            for prefix, service in GO_MODULE_PREFIXES:
                if low == prefix or low.startswith(prefix + "/") or low.startswith(prefix + "."):
                    if (service, name) not in seen:
                        seen.add((service, name))
                        out.append((service, name))
                    break
        return out
    table = DRIVERS.get(ecosystem, {})
    # Testcontainers 1.x artifacts are bare server names (`kafka`, `neo4j`): only their group says what they are.
    by_artifact = (
        {k.split(":", 1)[1]: v for k, v in table.items() if ":" in k and not _BARE_TESTCONTAINERS.match(k)}
        if ecosystem == "java"
        else {}
    )
    for name in names:
        key = _norm(ecosystem, name)
        found = table.get(key) or by_artifact.get(key.split(":")[-1])
        if found and (found, name) not in seen:
            seen.add((found, name))
            out.append((found, name))
    return out


# Servers that tests run inside their own process (an embeddable server, an in-memory fake): a project that
# depends on one (or is one) tests against it, so its client library says nothing about a server CI must start.
# Go names match by module prefix, like GO_MODULE_PREFIXES.
IN_PROCESS: dict[str, dict[str, Service]] = {
    "go": {
        "github.com/nats-io/nats-server": "nats",
        "github.com/alicebob/miniredis": "redis",
        "github.com/fergusstrange/embedded-postgres": "postgres",
    },
    "node": {
        "mongodb-memory-server": "mongodb",
        "mongodb-memory-server-core": "mongodb",
        "redis-memory-server": "redis",
        "ioredis-mock": "redis",
        "pg-mem": "postgres",
    },
    "java": {
        "de.flapdoodle.embed:de.flapdoodle.embed.mongo": "mongodb",
        "io.zonky.test:embedded-postgres": "postgres",
        "org.springframework.kafka:spring-kafka-test": "kafka",
    },
    "ruby": {"mock_redis": "redis", "fakeredis": "redis"},
    "python": {"fakeredis": "redis", "mongomock": "mongodb"},
}


def services_run_in_process(ecosystem: Ecosystem, names: Iterable[str]) -> set[Service]:
    """The services that one of `names` (dependencies, or the project's own name) runs in the tests' process."""
    table = IN_PROCESS.get(ecosystem, {})
    found: set[Service] = set()
    for name in names:
        key = name.strip().lower() if ecosystem != "python" else _norm("python", name)
        if ecosystem == "go":
            found.update(s for prefix, s in table.items() if key == prefix or key.startswith(prefix + "/"))
        elif key in table:
            found.add(table[key])
    return found


def services_of_package(ecosystem: Ecosystem, own_name: str | None) -> list[Service]:
    """The service a project is the client library of (`pymongo` → mongodb, `postgrex` → postgres): its own
    test suite talks to a real server. Empty for any other project."""
    if not own_name:
        return []
    return list(dict.fromkeys(s for s, _ in services_from_dependencies(ecosystem, [own_name])))


def image_repository(image: str) -> str:
    """`docker.io/library/postgres:16@sha256:...` → `postgres`; `ghcr.io/org/app:1` → `org/app`."""
    ref = image.strip().split("@", 1)[0]
    # The tag is after the last ':' that follows the last '/' (a registry host may have a port).
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        ref = ref[:colon]
    parts = ref.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    if parts and parts[0] == "library":
        parts = parts[1:]
    return "/".join(parts).lower()


# Backing services outside the vocabulary (recorded as "other"): databases, emulators and brokers that tests
# start next to the code. Matched against the image's last path segment.
OTHER_SERVICE_IMAGES = frozenset(
    {
        "mssql",
        "mssql-server",
        "dynamodb-local",
        "localstack",
        "cassandra",
        "scylla",
        "couchdb",
        "couchbase",
        "neo4j",
        "clickhouse-server",
        "influxdb",
        "etcd",
        "consul",
        "vault",
        "azurite",
        "cockroach",
        "oracle-xe",
        "oracle-free",
        "db2",
        "firebird",
        "zookeeper",
        "pulsar",
        "artemis",
        "activemq",
        "emulator",  # gcr.io/google.com/cloudsdktool/...:emulators, pubsub/datastore emulators
        "fake-gcs-server",
        "meilisearch",
        "typesense",
        "solr",
        "keycloak",
        "ldap",
        "openldap",
        "toxiproxy",
    }
)
_DEFAULTED = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]+)\}$")


def service_from_image(image: str, *, name: str | None = None) -> Service | None:
    """The backing service a container image provides, or None for an image that is not one we know.

    `${VAR:-image}` (compose interpolation) is read as its default. `name`, the compose service's key, decides
    for an image of an unknown publisher (`redis: {image: acme/redis-test}`).
    """
    m = _DEFAULTED.match(image.strip())
    if m:
        image = m.group(1)
    repo = image_repository(image)
    if repo in IMAGES:
        return IMAGES[repo]
    namespace, _, last = repo.rpartition("/")
    # Vendor images published under a project namespace: docker.elastic.co/elasticsearch/elasticsearch.
    if last in ("postgres", "mysql", "mariadb", "redis", "mongo", "rabbitmq"):
        return IMAGES[last]
    if namespace.split("/")[0] == "redislabs":
        return "redis"
    if last in OTHER_SERVICE_IMAGES or "mssql" in namespace.split("/"):
        return "other"
    if name and name.lower() in _SERVICE_NAMES:
        return _SERVICE_NAMES[name.lower()]
    return None


_SERVICE_NAMES: dict[str, Service] = {
    **{k: v for k, v in IMAGES.items() if "/" not in k},
    "mongodb": "mongodb",
    "pg": "postgres",
}


_URL = re.compile(r"\b([a-z][a-z0-9+]*)://", re.I)
_ASSIGN = re.compile(r"^\s*(?:export\s+)?([A-Z][A-Z0-9_]*)\s*[=:]\s*(.*)$")


# Stores an application switches between by configuration (`CACHE_STORE=redis`, `SESSION_DRIVER=memcached`):
# their connection keys are often listed with defaults whether or not anything selects them.
_SELECTABLE: frozenset[Service] = frozenset({"redis", "memcached"})
_STORE_SELECTOR = re.compile(r"^(?:CACHE|SESSION|QUEUE|BROADCAST)_(?:STORE|DRIVER|CONNECTION|BACKEND)$")


def services_from_env(text: str) -> list[tuple[Service, str]]:
    """(service, the line's key or URL scheme) from a dotenv-style or settings text.

    Recognizes URLs by scheme (`postgres://`, `redis://`, `amqp://`...), variables by prefix (`REDIS_HOST`,
    `POSTGRES_DB`...), and driver names assigned to `DB_CONNECTION`/`DATABASE_ENGINE`-like keys. When the file
    selects its cache, session and queue stores (`CACHE_STORE=database`) and none of them is Redis or Memcached,
    their `REDIS_HOST`/`MEMCACHED_HOST` defaults are not a use of them (a Laravel `.env.example` lists both).
    """
    out: list[tuple[Service, str]] = []
    seen: set[Service] = set()
    by_prefix_only: set[Service] = set()
    selected: list[str] = []

    def add(service: Service, why: str, *, prefix: bool = False) -> None:
        if service not in seen:
            seen.add(service)
            out.append((service, why))
            if prefix:
                by_prefix_only.add(service)
        elif not prefix:
            by_prefix_only.discard(service)

    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "//", ";")):
            continue
        for m in _URL.finditer(line):
            service = URL_SCHEMES.get(m.group(1).lower())
            if service:
                add(service, f"{m.group(1).lower()}://")
        m2 = _ASSIGN.match(line)
        if not m2:
            continue
        key, value = m2.group(1), m2.group(2).strip().strip("'\"").lower()
        for prefix, service in ENV_PREFIXES:
            if key.startswith(prefix) or key == prefix.rstrip("_"):
                add(service, key, prefix=True)
                break
        if _STORE_SELECTOR.match(key) and value:
            selected.append(value)
        if key.endswith(("_CONNECTION", "_ENGINE", "_DRIVER", "_ADAPTER")) and value:
            word = value.rsplit(".", 1)[-1]
            if word in DRIVER_WORDS:
                add(DRIVER_WORDS[word], key)
    if selected:
        unused = {s for s in by_prefix_only & _SELECTABLE if not any(s in value for value in selected)}
        out = [(service, why) for service, why in out if service not in unused]
    return out
