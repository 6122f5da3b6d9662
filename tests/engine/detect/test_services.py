"""The service tables every ecosystem's detector uses."""

from __future__ import annotations

import pytest

from autodevops.engine.detect import services as svc


@pytest.mark.parametrize(
    ("ecosystem", "names", "expected"),
    [
        ("python", ["Psycopg2_Binary", "redis", "django"], [("postgres", "Psycopg2_Binary"), ("redis", "redis")]),
        ("node", ["mongoose", "react"], [("mongodb", "mongoose")]),
        (
            "go",
            ["github.com/redis/go-redis/v9", "github.com/jackc/pgx/v5/pgxpool"],
            [("redis", "github.com/redis/go-redis/v9"), ("postgres", "github.com/jackc/pgx/v5/pgxpool")],
        ),
        ("go", ["github.com/lib/pqx"], []),
        (
            "java",
            ["org.postgresql:postgresql", "mysql-connector-j"],
            [("postgres", "org.postgresql:postgresql"), ("mysql", "mysql-connector-j")],
        ),
        (
            "java",  # Quarkus Dev Services start these servers in containers for the tests
            ["io.quarkus:quarkus-jdbc-postgresql", "io.quarkus:quarkus-mongodb-panache", "io.quarkus:quarkus-rest"],
            [("postgres", "io.quarkus:quarkus-jdbc-postgresql"), ("mongodb", "io.quarkus:quarkus-mongodb-panache")],
        ),
        ("ruby", ["pg", "sidekiq"], [("postgres", "pg"), ("redis", "sidekiq")]),
        ("php", ["predis/predis", "ext-pdo_pgsql"], [("redis", "predis/predis"), ("postgres", "ext-pdo_pgsql")]),
        ("dotnet", ["Npgsql.EntityFrameworkCore.PostgreSQL"], [("postgres", "Npgsql.EntityFrameworkCore.PostgreSQL")]),
        ("elixir", ["postgrex", "myxql"], [("postgres", "postgrex"), ("mysql", "myxql")]),
        ("rust", ["tokio-postgres", "lapin"], [("postgres", "tokio-postgres"), ("rabbitmq", "lapin")]),
        ("cobol", ["pg"], []),
    ],
)
def test_services_from_dependencies(ecosystem: str, names: list[str], expected: list[tuple[str, str]]) -> None:
    assert svc.services_from_dependencies(ecosystem, names) == expected


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("postgres:16-alpine", "postgres"),
        ("docker.io/library/redis:7@sha256:abc", "redis"),
        ("docker.elastic.co/elasticsearch/elasticsearch:8.15.0", "elasticsearch"),
        ("localhost:5000/mysql", "mysql"),
        ("valkey/valkey:8.1-alpine", "redis"),
        ("bitnami/kafka:3.7", "kafka"),
        ("ghcr.io/acme/app:1.2", None),
        ("node:22", None),
    ],
)
def test_service_from_image(image: str, expected: str | None) -> None:
    assert svc.service_from_image(image) == expected


def test_store_defaults_nothing_selects_are_not_a_use() -> None:
    # A Laravel skeleton's .env.example: the stores are the database; Redis and Memcached are only listed.
    skeleton = (
        "DB_CONNECTION=sqlite\nSESSION_DRIVER=database\nQUEUE_CONNECTION=database\nCACHE_STORE=database\n"
        "MEMCACHED_HOST=127.0.0.1\nREDIS_CLIENT=phpredis\nREDIS_HOST=127.0.0.1\nREDIS_PORT=6379\n"
    )
    assert svc.services_from_env(skeleton) == []
    # Once a store selects Redis, or a URL points at it, it is used.
    assert svc.services_from_env(skeleton.replace("CACHE_STORE=database", "CACHE_STORE=redis")) == [
        ("redis", "REDIS_CLIENT")
    ]
    assert svc.services_from_env(skeleton + "REDIS_URL=redis://cache:6379/0\n") == [("redis", "REDIS_CLIENT")]


def test_services_from_env() -> None:
    text = (
        "# comment: redis://ignored\n"
        "DATABASE_URL=postgresql://user:pw@localhost/db\n"
        "export REDIS_HOST=localhost\n"
        "DB_CONNECTION=mysql\n"
        "BROKER=amqp://guest@localhost//\n"
        "APP_NAME=demo\n"
    )
    assert svc.services_from_env(text) == [
        ("postgres", "postgresql://"),
        ("redis", "REDIS_HOST"),
        ("mysql", "DB_CONNECTION"),
        ("rabbitmq", "amqp://"),
    ]


@pytest.mark.parametrize(
    ("ecosystem", "names", "expected"),
    [
        # Testcontainers modules start their server for the tests; integration packages name none.
        (
            "dotnet",
            ["Testcontainers.MsSql", "Testcontainers", "Testcontainers.Xunit"],
            [("other", "Testcontainers.MsSql")],
        ),
        (
            "java",
            [
                "org.testcontainers:postgresql",
                "org.testcontainers:testcontainers-kafka",
                "org.testcontainers:junit-jupiter",
            ],
            [("postgres", "org.testcontainers:postgresql"), ("kafka", "org.testcontainers:testcontainers-kafka")],
        ),
        ("java", ["kafka", "neo4j"], []),  # bare 1.x artifact names without their group say nothing
        (
            "go",
            [
                "github.com/testcontainers/testcontainers-go/modules/redis",
                "github.com/testcontainers/testcontainers-go",
            ],
            [("redis", "github.com/testcontainers/testcontainers-go/modules/redis")],
        ),
    ],
)
def test_testcontainers_modules_name_their_server(
    ecosystem: str, names: list[str], expected: list[tuple[str, str]]
) -> None:
    assert svc.services_from_dependencies(ecosystem, names) == expected


def test_an_embeddable_server_or_in_memory_fake_runs_in_the_tests_process() -> None:
    # The NATS server's own module (and projects embedding it) test against it in-process.
    assert svc.services_run_in_process("go", ["github.com/nats-io/nats-server/v2", "github.com/nats-io/nats.go"]) == {
        "nats"
    }
    assert svc.services_run_in_process("node", ["mongodb-memory-server", "mongoose"]) == {"mongodb"}
    assert svc.services_run_in_process("python", ["FakeRedis"]) == {"redis"}
    assert svc.services_run_in_process("go", ["github.com/nats-io/nats.go"]) == set()


def test_opensearch_is_a_server_of_its_own() -> None:
    # A fork that has diverged from Elasticsearch: an Elasticsearch container does not stand in for it.
    assert svc.service_from_image("opensearchproject/opensearch:2.13.0") == "other"
    assert svc.services_from_dependencies("python", ["opensearch-py", "elasticsearch"]) == [
        ("other", "opensearch-py"),
        ("elasticsearch", "elasticsearch"),
    ]
    assert svc.services_from_dependencies("ruby", ["searchkick", "opensearch-ruby"]) == [("other", "opensearch-ruby")]
