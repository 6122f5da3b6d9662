"""Java/Kotlin detection on small fixture repositories: Maven and Gradle builds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from detect_fixtures import run_detector

from autodevops.engine.detect import jvm
from autodevops.engine.detect.base import Context
from autodevops.engine.model import Stack

TODAY = dt.date(2026, 11, 26)


def analyze(root: Path, files: dict[str, str]) -> tuple[list[Stack], Context]:
    return run_detector(jvm.detect, root, files, TODAY)


def pom(body: str) -> str:
    return (
        '<?xml version="1.0"?>\n<project xmlns="http://maven.apache.org/POM/4.0.0">\n'
        "<modelVersion>4.0.0</modelVersion>\n" + body + "\n</project>\n"
    )


ROOT_POM = pom(
    """
<parent><groupId>org.springframework.boot</groupId><artifactId>spring-boot-starter-parent</artifactId></parent>
<artifactId>shop</artifactId>
<packaging>pom</packaging>
<modules><module>core</module><module>web</module></modules>
<properties><java.version>21</java.version><maven.compiler.release>${java.version}</maven.compiler.release></properties>
<build><plugins>
  <plugin><artifactId>maven-checkstyle-plugin</artifactId></plugin>
  <plugin><groupId>org.springframework.boot</groupId><artifactId>spring-boot-maven-plugin</artifactId></plugin>
</plugins></build>
"""
)
CORE_POM = pom(
    """
<artifactId>core</artifactId>
<dependencies>
  <dependency><groupId>org.postgresql</groupId><artifactId>postgresql</artifactId></dependency>
</dependencies>
"""
)


def test_maven_multi_module_build_is_one_stack(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {
            "pom.xml": ROOT_POM,
            "mvnw": "",
            "core/pom.xml": CORE_POM,
            "web/pom.xml": pom("<artifactId>web</artifactId>"),
            "core/src/main/java/App.java": "class App {}\n",
            "core/src/test/resources/fixture/pom.xml": pom("<artifactId>fixture</artifactId>"),
        },
    )
    assert stack.path == "."
    assert stack.language == "java"
    assert stack.package_manager == "maven"
    assert stack.workspace_members == ["core", "web"]
    assert stack.versions == ["21"]
    assert stack.provenance["versions"].evidence[0].key == "properties.maven.compiler.release"
    assert stack.test_tool == "maven"
    assert stack.test_commands == ["./mvnw -B verify"]
    assert stack.build_commands == ["./mvnw -B verify"]  # spring-boot-maven-plugin packages an application
    assert stack.lint_tools == ["other"]
    assert stack.services == ["postgres"]
    assert stack.frameworks == ["spring-boot"]


def test_a_module_the_aggregator_lists_only_in_a_comment_is_out_of_the_build(tmp_path: Path) -> None:
    aggregator = pom(
        "<artifactId>all</artifactId><packaging>pom</packaging>\n<modules>\n<module>core</module>\n"
        "<!-- waits for an upstream fix\n<module>legacy</module> -->\n</modules>"
    )
    stacks, _ = analyze(
        tmp_path,
        {
            "pom.xml": aggregator,
            "core/pom.xml": pom("<artifactId>core</artifactId>"),
            "legacy/pom.xml": pom("<artifactId>legacy</artifactId>"),
            "standalone/pom.xml": pom("<artifactId>standalone</artifactId>"),
        },
    )
    assert sorted(s.path for s in stacks) == [".", "standalone"]


def test_the_android_shell_of_a_cross_platform_app_is_not_a_stack(tmp_path: Path) -> None:
    stacks, _ = analyze(
        tmp_path,
        {
            "examples/ChatApp/package.json": '{"dependencies": {"react-native": "0.76.0"}}',
            "examples/ChatApp/android/settings.gradle": "include ':app'\n",
            "examples/ChatApp/android/gradlew": "",
            "examples/Flutter/pubspec.yaml": "name: demo\n",
            "examples/Flutter/android/settings.gradle.kts": "",
            "examples/Flutter/android/gradlew": "",
            "app/android/settings.gradle.kts": "",  # a native Android app of its own
            "app/android/gradlew": "",
        },
    )
    assert [s.path for s in stacks] == ["app/android"]


def test_the_repositorys_maven_library_packages_without_retesting(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {
            "pom.xml": pom(
                "<artifactId>lib</artifactId><properties><maven.compiler.source>1.8</maven.compiler.source></properties>"
            ),
            "src/test/java/LibTest.java": "class LibTest {}\n",
        },
    )
    assert stack.test_commands == ["mvn -B verify"]
    assert stack.build_commands == ["mvn -B -DskipTests package"]
    assert stack.versions == ["8"]


def test_a_nested_maven_library_is_only_tested(tmp_path: Path) -> None:
    files = {
        "examples/demo/pom.xml": pom("<artifactId>demo</artifactId>"),
        "examples/demo/src/test/java/DemoTest.java": "class DemoTest {}\n",
    }
    (stack,), _ = analyze(tmp_path, files)
    assert stack.path == "examples/demo"
    assert stack.build_commands == []


def test_compiler_plugin_release_is_read(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {
            "pom.xml": pom(
                "<artifactId>lib</artifactId><build><plugins><plugin><artifactId>maven-compiler-plugin</artifactId>"
                "<configuration><release>17</release></configuration></plugin></plugins></build>"
            )
        },
    )
    assert stack.versions == ["17"]


def test_bazel_build_beside_maven_is_a_second_stack_on_the_same_jdk(tmp_path: Path) -> None:
    (maven, bazel), _ = analyze(
        tmp_path,
        {
            "pom.xml": pom(
                "<artifactId>lib</artifactId><properties><maven.compiler.release>17</maven.compiler.release>"
                "</properties>"
            ),
            "MODULE.bazel": "module(name = 'lib')\n",
            "src/main/java/Lib.java": "class Lib {}\n",
        },
    )
    assert maven.package_manager == "maven"
    assert (bazel.path, bazel.language, bazel.package_manager, bazel.test_tool) == (".", "java", "none", "other")
    assert bazel.test_commands == ["bazel test //... --test_output=errors"]
    assert bazel.versions == ["17"]


def test_no_bazel_files_no_second_stack(tmp_path: Path) -> None:
    (stack,), _ = analyze(tmp_path, {"pom.xml": pom("<artifactId>lib</artifactId>"), "BUILD": "not bazel alone\n"})
    assert stack.package_manager == "maven"


def enforced(release: str, jdks: str) -> str:
    return pom(
        f"<artifactId>lib</artifactId><properties><maven.compiler.release>{release}</maven.compiler.release>"
        "</properties><build><plugins><plugin><artifactId>maven-enforcer-plugin</artifactId><executions><execution>"
        f"<configuration><rules><requireJavaVersion><version>{jdks}</version></requireJavaVersion></rules>"
        "</configuration></execution></executions></plugin></plugins></build>"
    )


def test_an_enforcer_rule_refusing_the_release_jdk_decides_which_jdks_build(tmp_path: Path) -> None:
    # Compiled for Java 8, but the build's plugins need JDK 17 to 21: a Java 8 job could never build it.
    (bounded,), _ = analyze(tmp_path / "bounded", {"pom.xml": enforced("8", "[17,22)")})
    assert bounded.versions == ["17", "21"]
    assert bounded.provenance["versions"].evidence[0].key == "maven-enforcer-plugin.requireJavaVersion"
    # An open range: the lowest JDK it accepts.
    (open_range,), _ = analyze(tmp_path / "open", {"pom.xml": enforced("1.8", "[11,)")})
    assert open_range.versions == ["11"]
    # A rule the release's own JDK satisfies ("at least the Java we compile for") changes nothing.
    (floor,), _ = analyze(tmp_path / "floor", {"pom.xml": enforced("17", "17")})
    assert floor.versions == ["17"]


def test_gradle_kotlin_build_with_included_build_logic(tmp_path: Path) -> None:
    stacks, ctx = analyze(
        tmp_path,
        {
            "settings.gradle.kts": 'rootProject.name = "client"\ninclude(":lib")\nincludeBuild("build-logic")\n',
            "build.gradle.kts": 'plugins { id("com.diffplug.spotless") }\n',
            "lib/build.gradle.kts": (
                'kotlin { jvmToolchain(17) }\ndependencies { implementation("redis.clients:jedis:5.1.0") }\n'
            ),
            "build-logic/settings.gradle.kts": "",
            "build-logic/build.gradle.kts": "",
            "gradlew": "",
            "lib/src/main/kotlin/Client.kt": "class Client\n" * 20,
            "lib/src/main/java/Legacy.java": "class Legacy {}\n",
        },
    )
    (stack,) = stacks
    assert stack.language == "kotlin"
    assert stack.package_manager == "gradle"
    assert stack.versions == ["17"]
    assert stack.provenance["versions"].evidence[0].file == "lib/build.gradle.kts"
    assert stack.test_tool == "gradle"
    assert stack.test_commands == ["./gradlew check"]
    assert stack.build_commands == ["./gradlew assemble"]
    assert stack.lint_tools == ["other"]
    assert stack.services == ["redis"]
    assert "build-logic" in stack.workspace_members
    assert not any(f.code == "no-gradle-wrapper" for f in ctx.findings)


def test_gradle_java_version_forms(tmp_path: Path) -> None:
    cases = {
        "java { toolchain { languageVersion = JavaLanguageVersion.of(21) } }": "21",
        "sourceCompatibility = JavaVersion.VERSION_11": "11",
        "sourceCompatibility = '1.8'": "8",
        'kotlinOptions { jvmTarget = "17" }': "17",
    }
    for i, (script, expected) in enumerate(cases.items()):
        (stack,), _ = analyze(tmp_path / str(i), {"build.gradle": script + "\n", "src/main/java/A.java": "class A {}"})
        assert stack.versions == [expected], script


def test_a_java_8_target_builds_on_the_jdk_gradle_9_and_android_need(tmp_path: Path) -> None:
    wrapper = "distributionUrl=https\\://services.gradle.org/distributions/gradle-9.2.1-bin.zip\n"
    script = "kotlin { jvmTarget.set(JvmTarget.JVM_1_8) }\n"
    (stack,), _ = analyze(
        tmp_path / "gradle9",
        {"build.gradle.kts": script, "gradle/wrapper/gradle-wrapper.properties": wrapper, "src/main/kotlin/A.kt": ""},
    )
    assert stack.versions == ["17"]
    assert stack.provenance["versions"].evidence[0].file == "gradle/wrapper/gradle-wrapper.properties"
    android = 'plugins { id("com.android.library") }\n' + script
    (stack,), _ = analyze(tmp_path / "android", {"build.gradle.kts": android, "src/main/kotlin/A.kt": ""})
    assert stack.versions == ["17"]
    # Gradle 8 runs on Java 8: the target is the JDK
    old = wrapper.replace("9.2.1", "8.14.3")
    (stack,), _ = analyze(
        tmp_path / "gradle8",
        {"build.gradle.kts": script, "gradle/wrapper/gradle-wrapper.properties": old, "src/main/kotlin/A.kt": ""},
    )
    assert stack.versions == ["8"]


def test_maven_and_gradle_in_one_directory_are_two_stacks_sharing_facts(tmp_path: Path) -> None:
    stacks, ctx = analyze(
        tmp_path,
        {
            "pom.xml": ROOT_POM.replace("<packaging>pom</packaging>", "")
            .replace("<modules><module>core</module><module>web</module></modules>", "")
            .replace("<build>", CORE_POM.split("<artifactId>core</artifactId>")[1].split("</project>")[0] + "<build>"),
            "build.gradle": "",
            "src/main/java/App.java": "class App {}",
            "src/checkstyle/nohttp-checkstyle.xml": "<module/>",
        },
    )
    by_pm = {s.package_manager: s for s in stacks}
    assert sorted(by_pm) == ["gradle", "maven"]
    assert any(f.code == "multiple-build-systems" and f.stack == "." for f in ctx.findings)
    gradle = by_pm["gradle"]
    # the Gradle script says nothing: the release and the drivers come from the pom beside it
    assert gradle.versions == ["21"]
    assert gradle.services == ["postgres"]
    assert gradle.lint_tools == ["other"]
    assert gradle.test_commands == ["gradle check"]
    assert any(f.code == "no-gradle-wrapper" for f in ctx.findings)


def test_an_eol_java_release_is_reported(tmp_path: Path) -> None:
    _, ctx = analyze(tmp_path, {"build.gradle": "sourceCompatibility = JavaVersion.VERSION_22\n", "gradlew": ""})
    assert any(f.code == "eol-runtime" for f in ctx.findings)


def test_a_lone_helper_build_script_is_not_a_stack(tmp_path: Path) -> None:
    stacks, _ = analyze(tmp_path, {"support/build.gradle": "apply plugin: 'com.android.library'\n", "src/x.cc": ""})
    assert stacks == []


def test_build_files_inside_source_sets_are_test_inputs_but_a_src_directory_may_hold_builds(tmp_path: Path) -> None:
    stacks, _ = analyze(
        tmp_path,
        {
            "src/billing/pom.xml": pom("<artifactId>billing</artifactId>"),
            "src/billing/src/test/resources/projects/sample/pom.xml": pom("<artifactId>sample</artifactId>"),
            "src/billing/src/it/simple/build.gradle": "",
        },
    )
    assert [s.path for s in stacks] == ["src/billing"]


def test_malformed_pom_is_a_finding_and_the_stack_remains(tmp_path: Path) -> None:
    files = {"pom.xml": "<project><artifactId>broken</project>", "mvnw": "", "src/test/java/T.java": "class T {}\n"}
    (stack,), ctx = analyze(tmp_path, files)
    assert stack.package_manager == "maven"
    assert stack.test_commands == ["./mvnw -B verify"]
    assert any(f.code == "parse-error" and "pom.xml" in f.message for f in ctx.findings)


def test_an_xml_bomb_in_a_pom_is_refused(tmp_path: Path) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>'
        "<project><artifactId>&lol2;</artifactId></project>"
    )
    (stack,), ctx = analyze(tmp_path, {"pom.xml": bomb})
    assert stack.versions == []
    assert any(f.code == "parse-error" for f in ctx.findings)


def test_modules_inherit_the_aggregator_properties(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {
            "pom.xml": pom(
                "<artifactId>parent</artifactId><modules><module>app</module></modules>"
                "<properties><jdk>17</jdk></properties>"
                "<dependencyManagement><dependencies><dependency><groupId>com.mysql</groupId>"
                "<artifactId>mysql-connector-j</artifactId></dependency></dependencies></dependencyManagement>"
            ),
            "app/pom.xml": pom(
                "<artifactId>app</artifactId><properties><maven.compiler.release>${jdk}</maven.compiler.release>"
                "</properties>"
            ),
        },
    )
    assert stack.versions == ["17"]
    assert stack.provenance["versions"].evidence[0].file == "app/pom.xml"
    assert stack.services == []  # managed, not used


def test_a_developer_jdk_older_than_the_release_is_a_conflict(tmp_path: Path) -> None:
    (stack,), ctx = analyze(
        tmp_path,
        {
            "pom.xml": pom("<properties><maven.compiler.release>21</maven.compiler.release></properties>"),
            ".sdkmanrc": "java=17.0.12-tem\n",
        },
    )
    assert stack.versions == ["21"]
    conflict = next(f for f in ctx.findings if f.code == "version-conflict")
    assert [e.file for e in conflict.evidence] == [".sdkmanrc", "pom.xml"]


def test_a_version_file_alone_sets_the_release(tmp_path: Path) -> None:
    (stack,), _ = analyze(tmp_path, {"pom.xml": pom("<artifactId>a</artifactId>"), ".java-version": "21.0.4\n"})
    assert stack.versions == ["21"]


def test_an_asdf_java_pin_is_read(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path, {"pom.xml": pom("<artifactId>a</artifactId>"), ".tool-versions": "java temurin-21.0.4+7\n"}
    )
    assert stack.versions == ["21"]


def test_a_convention_plugin_sets_the_toolchain_of_a_multi_project_build(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {
            "settings.gradle.kts": 'includeBuild("build-logic")\ninclude(":core")\n',
            "gradlew": "",
            "build-logic/settings.gradle.kts": "",
            "build-logic/build.gradle.kts": "plugins { `kotlin-dsl` }\n",
            "build-logic/src/main/kotlin/app.jvm-conventions.gradle.kts": "kotlin {\n  jvmToolchain(17)\n}\n",
            "core/build.gradle.kts": 'plugins { id("app.jvm-conventions") }\n',
            "core/src/main/kotlin/A.kt": "class A",
        },
    )
    assert stack.versions == ["17"]
    assert stack.provenance["versions"].evidence[0].file == "build-logic/src/main/kotlin/app.jvm-conventions.gradle.kts"


def test_a_build_declaring_no_java_release_gets_the_supported_releases(tmp_path: Path) -> None:
    (gradle,), _ = analyze(tmp_path / "g", {"settings.gradle.kts": "", "build.gradle.kts": "", "gradlew": ""})
    # On the analysis date: the LTS lines 8, 11, 17, 21, 25 and the current feature release 27 (26 has ended).
    assert gradle.versions == ["8", "11", "17", "21", "25", "27"]
    assert gradle.provenance["versions"].confidence == 0.4
    (maven,), _ = analyze(tmp_path / "m", {"pom.xml": pom("<artifactId>a</artifactId>")})
    assert maven.versions == ["8", "11", "17", "21", "25", "27"]


def test_the_binary_compatibility_validator_is_a_check_of_the_gradle_build(tmp_path: Path) -> None:
    files = {
        "settings.gradle.kts": 'rootProject.name = "lib"\n',
        "build.gradle.kts": 'plugins { kotlin("jvm") }\n',
        "gradlew": "",
        "src/main/kotlin/Lib.kt": "class Lib\n" * 20,
    }
    (stack,), _ = analyze(tmp_path / "plain", files)
    assert stack.lint_tools == []
    validated = 'plugins {\n  kotlin("jvm")\n  id("org.jetbrains.kotlinx.binary-compatibility-validator")\n}\n'
    (stack,), _ = analyze(tmp_path / "api", {**files, "build.gradle.kts": validated})
    assert stack.lint_tools == ["other"]


def test_a_nested_gradle_build_with_its_own_wrapper_is_a_build_of_its_own(tmp_path: Path) -> None:
    files = {
        "settings.gradle": "rootProject.name = 'lib'\n",
        "build.gradle": "plugins { id 'java-library' }\n",
        "gradlew": "",
        "src/main/java/Lib.java": "class Lib {}\n",
        # examples: own settings and wrapper, building against the enclosing project from source
        "examples/settings.gradle": "includeBuild '..'\ninclude 'redis'\n",
        "examples/gradlew": "",
        "examples/redis/build.gradle": "plugins { id 'java' }\n",
        # build-logic: an included build without a wrapper of its own
        "build-logic/settings.gradle": "",
        "build-logic/build.gradle": "",
    }
    stacks, _ = analyze(tmp_path / "apart", files)
    assert sorted(s.path for s in stacks) == [".", "examples"]
    assert next(s for s in stacks if s.path == "examples").test_commands == ["./gradlew check"]
    # the outer build including it with includeBuild makes it part of that build
    included = files | {"settings.gradle": files["settings.gradle"] + "includeBuild 'examples'\n"}
    stacks, _ = analyze(tmp_path / "included", included)
    assert [s.path for s in stacks] == ["."]
    # a nested build that does not build the enclosing one (a plugin test reading a published repository) is
    # run by the outer build's own tasks
    plugin_test = files | {
        "examples/settings.gradle": "pluginManagement { repositories { maven { url '../build/repo' } } }\n"
    }
    stacks, _ = analyze(tmp_path / "plugin-test", plugin_test)
    assert [s.path for s in stacks] == ["."]


def test_a_maven_build_without_test_sources_is_built_and_checked_not_tested(tmp_path: Path) -> None:
    files = {
        "pom.xml": pom("<artifactId>lib</artifactId><modules><module>core</module></modules>"),
        "core/pom.xml": CORE_POM,
        "core/src/main/java/Lib.java": "class Lib {}\n",
    }
    (stack,), _ = analyze(tmp_path / "untested", files)
    # No src/test anywhere: `verify` is the whole check, and no database is needed by tests that do not exist.
    assert stack.test_tool == "none"
    assert stack.test_commands == []
    assert stack.build_commands == ["mvn -B verify"]
    assert stack.services == []
    (stack,), _ = analyze(tmp_path / "tested", {**files, "core/src/test/java/LibTest.java": "class LibTest {}\n"})
    assert stack.test_tool == "maven"
    assert stack.test_commands == ["mvn -B verify"]
    assert stack.services == ["postgres"]


def test_dependencies_of_a_profile_active_by_default_are_part_of_the_build(tmp_path: Path) -> None:
    def app(activation: str) -> dict[str, str]:
        body = (
            "<artifactId>app</artifactId><profiles><profile><id>dev</id>"
            + activation
            + "<dependencies><dependency><groupId>org.testcontainers</groupId>"
            "<artifactId>testcontainers-postgresql</artifactId></dependency></dependencies></profile></profiles>"
        )
        return {"pom.xml": pom(body), "src/test/java/AppIT.java": "class AppIT {}\n"}

    (stack,), _ = analyze(tmp_path / "default", app("<activation><activeByDefault>true</activeByDefault></activation>"))
    # The default build's tests start a PostgreSQL container.
    assert stack.services == ["postgres"]
    (stack,), _ = analyze(tmp_path / "opt-in", app(""))
    assert stack.services == []


def test_a_nested_build_with_tests_of_its_own_keeps_its_confidence_and_one_without_does_not(tmp_path: Path) -> None:
    files = {
        "pom.xml": pom("<artifactId>lib</artifactId>"),
        "src/test/java/LibTest.java": "class LibTest {}\n",
        "samples/app/pom.xml": pom("<artifactId>app</artifactId>"),
        "samples/app/src/test/java/AppTest.java": "class AppTest {}\n",
        "tools/gen/pom.xml": pom("<artifactId>gen</artifactId>"),
        "tools/gen/src/main/java/Gen.java": "class Gen {}\n",
    }
    stacks, _ = analyze(tmp_path, files)
    confidence = {s.path: s.provenance["path"].confidence for s in stacks}
    assert confidence == {".": 0.9, "samples/app": 0.9, "tools/gen": 0.7}
