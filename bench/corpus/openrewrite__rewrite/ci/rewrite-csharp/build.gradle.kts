@file:Suppress("UnstableApiUsage")

import com.gradle.develocity.agent.gradle.test.ImportJUnitXmlReports
import com.gradle.develocity.agent.gradle.test.JUnitXmlDialect
import com.hierynomus.gradle.license.tasks.LicenseCheck
import com.hierynomus.gradle.license.tasks.LicenseFormat
import nl.javadude.gradle.plugins.license.LicenseExtension
import java.time.Instant
import java.time.ZoneOffset
import java.time.format.DateTimeFormatter
import java.util.Calendar

plugins {
    id("org.openrewrite.build.language-library")
    id("org.openrewrite.build.moderne-source-available-license")
    id("jvm-test-suite")
    id("publishing")
}

normalization {
    runtimeClasspath {
        ignore("META-INF/rewrite-csharp-version.txt")
    }
}

dependencies {
    api(project(":rewrite-core"))
    api(project(":rewrite-java"))

    api("org.jetbrains:annotations:latest.release")
    api("com.fasterxml.jackson.core:jackson-annotations")

    implementation("io.moderne:jsonrpc:latest.release")

    compileOnly(project(":rewrite-test"))
    compileOnly(project(":rewrite-xml"))

    testImplementation(project(":rewrite-test"))
    testImplementation(project(":rewrite-xml"))
    testImplementation(project(":rewrite-maven"))
    testImplementation("io.moderne:jsonrpc:latest.integration")
    testRuntimeOnly(project(":rewrite-java-21"))
}

tasks.withType<Javadoc>().configureEach {
    (options as StandardJavadocDocletOptions).addStringOption("Xdoclint:none", "-quiet")
    exclude("**/Cs.java")
}

// C#-specific build tasks
val csharpDir = projectDir.resolve("csharp")

// Find dotnet executable
fun findDotnet(): String {
    val candidates = listOf("dotnet")
    for (cmd in candidates) {
        try {
            val process = ProcessBuilder(cmd, "--version")
                .redirectErrorStream(true)
                .start()
            if (process.waitFor() == 0) {
                return cmd
            }
        } catch (e: Exception) {
            // Command not found, try next
        }
    }
    throw GradleException(".NET SDK not found. Please install .NET 10.0+ SDK and ensure 'dotnet' is on your PATH.")
}

val csharpBuild by tasks.registering(Exec::class) {
    group = "csharp"
    description = "Build C# projects"

    workingDir = csharpDir

    inputs.files(fileTree(csharpDir.resolve("OpenRewrite")) { exclude("**/bin/**", "**/obj/**", "**/build/**") })
        .withPathSensitivity(PathSensitivity.RELATIVE)
    inputs.files(fileTree(csharpDir.resolve("OpenRewrite.Tests")) { exclude("**/bin/**", "**/obj/**", "**/build/**") })
        .withPathSensitivity(PathSensitivity.RELATIVE)
    inputs.files(fileTree(csharpDir.resolve("OpenRewrite.Tool")) { exclude("**/bin/**", "**/obj/**", "**/build/**") })
        .withPathSensitivity(PathSensitivity.RELATIVE)
    outputs.dir(csharpDir.resolve("OpenRewrite/bin"))
    outputs.dir(csharpDir.resolve("OpenRewrite.Tests/bin"))
    outputs.dir(csharpDir.resolve("OpenRewrite.Tool/bin"))

    doFirst {
        commandLine(findDotnet(), "build")
        logger.lifecycle("Building C# projects in ${csharpDir}")
    }
}

// Writes the test runtime classpath to a file so the C# RpcFixture can
// launch JavaRewriteRpc via `java -cp <classpath> ...` without a fat JAR.
val rpcTestClasspath by tasks.registering {
    group = "csharp"
    description = "Write the Java RPC test server classpath for C# integration tests"
    dependsOn(tasks.named("testClasses"))

    inputs.files(configurations["testRuntimeClasspath"])
        .withNormalizer(ClasspathNormalizer::class)
    inputs.files(tasks.named<JavaCompile>("compileJava").flatMap { it.destinationDirectory })
    inputs.files(tasks.named<JavaCompile>("compileTestJava").flatMap { it.destinationDirectory })
    inputs.files(tasks.named("processResources"))
    inputs.files(tasks.named("processTestResources"))

    val classpathFile = layout.buildDirectory.file("rpc-test-server-classpath.txt")
    outputs.file(classpathFile)

    doLast {
        val cp = configurations["testRuntimeClasspath"].resolve().joinToString(File.pathSeparator) +
                File.pathSeparator + tasks.named<JavaCompile>("compileJava").get().destinationDirectory.get().asFile +
                File.pathSeparator + tasks.named<JavaCompile>("compileTestJava").get().destinationDirectory.get().asFile +
                File.pathSeparator + tasks.named("processResources").get().outputs.files.singleFile +
                File.pathSeparator + tasks.named("processTestResources").get().outputs.files.singleFile
        classpathFile.get().asFile.writeText(cp)
    }
}

val junitXmlFile = csharpDir.resolve("build/test-results/xunit/junit.xml")

val csharpTest by tasks.registering(Exec::class) {
    group = "csharp"
    description = "Run C# xunit tests"
    dependsOn(csharpBuild, rpcTestClasspath)

    workingDir = csharpDir

    environment("RPC_TEST_SERVER_CLASSPATH",
        rpcTestClasspath.get().outputs.files.singleFile.absolutePath)

    inputs.files(fileTree(csharpDir.resolve("OpenRewrite")) { exclude("**/bin/**", "**/obj/**", "**/build/**") })
        .withPathSensitivity(PathSensitivity.RELATIVE)
    inputs.files(fileTree(csharpDir.resolve("OpenRewrite.Tests")) { exclude("**/bin/**", "**/obj/**", "**/build/**") })
        .withPathSensitivity(PathSensitivity.RELATIVE)
    inputs.files(fileTree(csharpDir.resolve("OpenRewrite.Tool")) { exclude("**/bin/**", "**/obj/**", "**/build/**") })
        .withPathSensitivity(PathSensitivity.RELATIVE)
    outputs.files(junitXmlFile)
    outputs.cacheIf { true }

    doFirst {
        // Target the OpenRewrite.Tests project explicitly. Running 'dotnet test' at solution
        // level would also probe OpenRewrite and OpenRewrite.Tool (neither carries the junit
        // logger after the test split), which fails the run even though all tests pass.
        // JunitXml.TestLogger resolves a relative LogFilePath against the test project's
        // TargetDir, so pin the absolute path and pass --results-directory to match.
        junitXmlFile.parentFile.mkdirs()
        // -PverboseTests restores the per-passing-test console output
        val dotnetVerbosity = if (project.hasProperty("verboseTests")) "normal" else "minimal"
        commandLine(
            findDotnet(), "test", "OpenRewrite.Tests/OpenRewrite.Tests.csproj",
            "--no-build", "--verbosity", dotnetVerbosity,
            "--results-directory", junitXmlFile.parentFile.absolutePath,
            "--logger", "junit;LogFilePath=${junitXmlFile.absolutePath}"
        )
        logger.lifecycle("Running C# tests in ${csharpDir}")
    }
}

ImportJUnitXmlReports.register(tasks, csharpTest, JUnitXmlDialect.GENERIC)

tasks.named("check") {
    dependsOn(csharpTest)
}

testing {
    suites {
        // Cross-process RPC bridge tests: Java drives the C# tool over the JSON-RPC bridge.
        // Kept out of the main `test` source set (matching rewrite-javascript/python/go) so the
        // unit suite stays fast and hermetic.
        register<JvmTestSuite>("integTest") {
            useJUnitJupiter()

            dependencies {
                implementation(project())
                implementation(project(":rewrite-java-21"))
                implementation(project(":rewrite-test"))
                implementation(project(":rewrite-xml"))
                implementation("org.assertj:assertj-core:latest.release")
                implementation("org.junit.platform:junit-platform-suite-api")
                runtimeOnly("org.junit.platform:junit-platform-suite-engine")
            }

            targets {
                all {
                    testTask.configure {
                        // These tests spawn the freshly built C# tool. dependsOn(csharpBuild) is
                        // also applied by the tasks.withType<Test> block below, but a plain
                        // dependsOn only orders the build — it does NOT make a C# source change
                        // invalidate this task's up-to-date/cache state. Declaring the C# sources
                        // as inputs does: without it a C# regression can slip through a cached test
                        // run (e.g. the System.Text.Json `IConvertible` break that reached main).
                        dependsOn(csharpBuild)
                        inputs.files(fileTree(csharpDir.resolve("OpenRewrite")) { exclude("**/bin/**", "**/obj/**", "**/build/**") })
                            .withPathSensitivity(PathSensitivity.RELATIVE)
                        inputs.files(fileTree(csharpDir.resolve("OpenRewrite.Tool")) { exclude("**/bin/**", "**/obj/**", "**/build/**") })
                            .withPathSensitivity(PathSensitivity.RELATIVE)
                        // Avoid two tasks driving C# RPC processes at the same time.
                        shouldRunAfter(tasks.named("test"))
                    }
                }
            }
        }
    }
}

// Run the cross-process bridge tests as part of `check` (and therefore `build`). The other RPC
// modules leave integTest opt-in, but here it is the only end-to-end coverage of the Java↔C#
// bridge, and the input wiring above makes it re-run when the C# tool changes.
tasks.named("check") {
    dependsOn(testing.suites.named("integTest"))
}

// Run tests serially to avoid issues with concurrent C# RPC processes
tasks.withType<Test> {
    // Ensure C# is built before running tests
    dependsOn(csharpBuild)

    maxParallelForks = 1
    maxHeapSize = "8g"
    // Exclude working-set tests by default:
    //   -PincludeWorkingSet      → include individual solution tests
    //   -PincludeWorkingSetFull  → include the full sweep test too
    useJUnitPlatform {
        if (!project.hasProperty("includeWorkingSet")) {
            excludeTags("workingSet")
        }
        if (!project.hasProperty("includeWorkingSetFull")) {
            excludeTags("workingSet-full")
        }
        if (!project.hasProperty("includeSlow")) {
            excludeTags("slow")
        }
    }
    // Add timeout to identify hanging tests
    systemProperty("junit.jupiter.execution.timeout.default", "30s")
    testLogging {
        // -PverboseTests shows every test plus its stdout/stderr (for diagnosing RPC hangs)
        if (project.hasProperty("verboseTests")) {
            events("started", "passed", "failed", "skipped")
            showStandardStreams = true
        } else {
            events("failed", "skipped")
        }
    }
}

// ============================================
// NuGet Version & Version File
// ============================================

// Generate a NuGet-compatible version
// CI builds use timestamped pre-release: 8.73.0-snapshot.20260110143252
// Local builds use stable suffix that sorts higher: 8.73.0-zlocal
// Releases use clean version: 8.73.0
fun gitCommitTimestamp(): String {
    val process = ProcessBuilder("git", "log", "-1", "--format=%ct")
        .directory(rootProject.projectDir)
        .redirectErrorStream(true)
        .start()
    val timestamp = process.inputStream.bufferedReader().readText().trim()
    process.waitFor()
    return Instant.ofEpochSecond(timestamp.toLong())
        .atZone(ZoneOffset.UTC)
        .format(DateTimeFormatter.ofPattern("yyyyMMddHHmmss"))
}

val nugetVersion: String = if (System.getenv("CI") != null) {
    project.version.toString().replace(
        "-SNAPSHOT",
        "-snapshot.${gitCommitTimestamp()}"
    )
} else {
    project.version.toString().replace("-SNAPSHOT", "-zlocal")
}

// Null when the property is absent OR blank: the release workflow sets
// ORG_GRADLE_PROJECT_nugetApiKey unconditionally, so a deleted secret still defines it as "" and a
// hasProperty check would be true — the push would then run with no credential and fail.
fun nugetApiKey(): String? =
    project.findProperty("nugetApiKey")?.toString()?.takeIf { it.isNotBlank() }

val generateVersionTxt by tasks.registering {
    group = "csharp"
    description = "Generate META-INF/rewrite-csharp-version.txt for RPC version pinning"

    val versionTxt = file("src/main/resources/META-INF/rewrite-csharp-version.txt")
    inputs.property("version", nugetVersion)
    outputs.file(versionTxt)

    doLast {
        versionTxt.parentFile.mkdirs()
        versionTxt.writeText(nugetVersion)
    }
}

listOf("sourcesJar", "processResources", "licenseMain", "assemble").forEach {
    tasks.named(it) {
        dependsOn(generateVersionTxt)
    }
}

// ============================================
// NuGet Publishing Tasks
// ============================================

// Task to pack C# projects as NuGet packages
// Packs both the SDK library and the tool; version is injected via /p:Version
val csharpBuildRelease by tasks.registering(Exec::class) {
    group = "csharp"
    description = "Build C# projects in Release configuration"

    workingDir = csharpDir

    inputs.files(fileTree(csharpDir.resolve("OpenRewrite")) { exclude("**/bin/**", "**/obj/**") })
        .withPathSensitivity(PathSensitivity.RELATIVE)
    inputs.files(fileTree(csharpDir.resolve("OpenRewrite.Tool")) { exclude("**/bin/**", "**/obj/**") })
        .withPathSensitivity(PathSensitivity.RELATIVE)
    outputs.dir(csharpDir.resolve("OpenRewrite/bin/Release"))
    outputs.dir(csharpDir.resolve("OpenRewrite.Tool/bin/Release"))

    doFirst {
        commandLine(findDotnet(), "build", "--configuration", "Release")
    }
}

val csharpPack by tasks.registering(Exec::class) {
    group = "csharp"
    description = "Pack C# projects as NuGet packages"

    dependsOn(csharpBuildRelease)

    workingDir = csharpDir

    inputs.files(fileTree(csharpDir.resolve("OpenRewrite")) { exclude("**/bin/**", "**/obj/**") })
    inputs.files(fileTree(csharpDir.resolve("OpenRewrite.Tool")) { exclude("**/bin/**", "**/obj/**") })
    inputs.property("version", nugetVersion)
    outputs.dir(csharpDir.resolve("dist"))

    doFirst {
        csharpDir.resolve("dist").deleteRecursively()
        commandLine(
            findDotnet(), "pack",
            "--no-build",
            "--configuration", "Release",
            "--output", "dist",
            "/p:Version=$nugetVersion"
        )
        logger.lifecycle("Packing C# NuGet packages (version: $nugetVersion)")
    }
}

// Task to publish NuGet package
val csharpPublish by tasks.registering(Exec::class) {
    group = "csharp"
    description = "Publish C# NuGet package"

    dependsOn(csharpPack)

    workingDir = csharpDir

    doFirst {
        val apiKey = nugetApiKey()
            ?: throw GradleException("nugetApiKey property is required for NuGet publishing")
        commandLine(
            findDotnet(), "nuget", "push",
            "dist/*.nupkg",
            "--source", "https://api.nuget.org/v3/index.json",
            "--api-key", apiKey,
            "--skip-duplicate"
        )
        logger.lifecycle("Publishing C# NuGet package (version: $nugetVersion)")
    }
}

// Null when the property is absent OR blank, for the same reason nugetApiKey() is.
fun cgpPublishToken(): String? =
    project.findProperty("cgpPublishToken")?.toString()?.takeIf { it.isNotBlank() }

// Task to publish NuGet packages to the Code Genome Project
val csharpPublishCgp by tasks.registering(Exec::class) {
    group = "csharp"
    description = "Publish C# NuGet packages to the Code Genome Project"

    dependsOn(csharpPack)

    workingDir = csharpDir

    doFirst {
        val token = cgpPublishToken()
            ?: throw GradleException("cgpPublishToken property is required for Code Genome Project publishing")
        // `dotnet nuget push` resolves the PackagePublish resource from the service index first,
        // over the SOURCE's stored credentials — --api-key rides on the push alone — and that index
        // is 401-on-anonymous. Hence a throwaway config naming a source that carries credentials.
        val config = temporaryDir.resolve("NuGet.config")
        config.writeText("""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="codegenome" value="https://artifacts.codegenomeproject.org/nuget/v3/index.json" />
              </packageSources>
              <packageSourceCredentials>
                <codegenome>
                  <add key="Username" value="cgp" />
                  <add key="ClearTextPassword" value="$token" />
                </codegenome>
              </packageSourceCredentials>
            </configuration>
        """.trimIndent())
        commandLine(
            findDotnet(), "nuget", "push",
            "dist/*.nupkg",
            "--source", "codegenome",
            "--configfile", config.absolutePath,
            "--api-key", token,
            // Keys off the 409 the repository answers on a version it already holds.
            "--skip-duplicate"
        )
        logger.lifecycle("Publishing C# NuGet packages to the Code Genome Project (version: $nugetVersion)")
    }
}

// Task to publish the C# SDK library to a local NuGet feed for cross-repo development.
// Usage: ./gradlew :rewrite-csharp:csharpPublishLocal
val csharpPublishLocal by tasks.registering {
    group = "csharp"
    description = "Pack and install C# NuGet packages into local NuGet cache"

    dependsOn(csharpPack)

    doLast {
        val localFeed = file("${System.getProperty("user.home")}/.nuget/local-feed")
        localFeed.mkdirs()

        val dotnet = findDotnet()
        val distDir = csharpDir.resolve("dist").absolutePath

        fun run(vararg args: String, dir: File? = null, ignoreExitCode: Boolean = false): String {
            val pb = ProcessBuilder(*args)
                .redirectErrorStream(true)
            if (dir != null) pb.directory(dir)
            val proc = pb.start()
            val output = proc.inputStream.bufferedReader().readText()
            val exitCode = proc.waitFor()
            if (exitCode != 0 && !ignoreExitCode) {
                throw GradleException("Command failed (exit $exitCode): ${args.joinToString(" ")}\n$output")
            }
            return output
        }

        // Find NuGet global-packages cache path
        val localsOutput = run(dotnet, "nuget", "locals", "global-packages", "--list")
        val cachePath = localsOutput.trim().substringAfter("global-packages: ")

        // Clear stale entries from NuGet caches for each package
        csharpDir.resolve("dist").listFiles()
            ?.filter { it.name.endsWith(".nupkg") }
            ?.forEach { nupkg ->
                val nameWithoutExt = nupkg.name.removeSuffix(".nupkg")
                val packageId = nameWithoutExt.removeSuffix(".$nugetVersion")

                // Clear the specific version from global packages cache
                val packageCacheDir = file("$cachePath/${packageId.lowercase()}/$nugetVersion")
                if (packageCacheDir.exists()) {
                    logger.lifecycle("Clearing cached: ${packageCacheDir.absolutePath}")
                    packageCacheDir.deleteRecursively()
                }

                // Clear the persistent tool-path install for the C# Tool so that
                // CSharpRewriteRpc reinstalls from the freshly published nupkg on the
                // next run instead of reusing a stale binary.
                if (packageId.equals("OpenRewrite.CSharp.Tool", ignoreCase = true)) {
                    val toolPathDir = file("${System.getProperty("user.home")}/.dotnet/rewrite-tools/$nugetVersion")
                    if (toolPathDir.exists()) {
                        logger.lifecycle("Clearing installed tool: ${toolPathDir.absolutePath}")
                        toolPathDir.deleteRecursively()
                    }
                }

                nupkg.copyTo(localFeed.resolve(nupkg.name), overwrite = true)
                logger.lifecycle("Published $packageId@$nugetVersion to ${localFeed.absolutePath}")
            }

        // Create a temp project with PackageDownload entries and restore to populate the NuGet cache
        val tempDir = temporaryDir
        tempDir.deleteRecursively()
        tempDir.mkdirs()

        val packageDownloads = csharpDir.resolve("dist").listFiles()
            ?.filter { it.name.endsWith(".nupkg") }
            ?.joinToString("\n") { nupkg ->
                val nameWithoutExt = nupkg.name.removeSuffix(".nupkg")
                val packageId = nameWithoutExt.removeSuffix(".$nugetVersion")
                logger.lifecycle("Installing $packageId@$nugetVersion into NuGet cache from $distDir")
                """    <PackageDownload Include="$packageId" Version="[$nugetVersion]" />"""
            } ?: ""

        val tempCsproj = tempDir.resolve("Temp.csproj")
        tempCsproj.writeText("""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
              </PropertyGroup>
              <ItemGroup>
            $packageDownloads
              </ItemGroup>
            </Project>
        """.trimIndent())

        val restoreOutput = run(
            dotnet, "restore",
            "--source", distDir,
            "--force",
            dir = tempDir,
            ignoreExitCode = true
        )
        logger.lifecycle(restoreOutput)
    }
}

// Wire publishToMavenLocal to also publish the NuGet packages locally
tasks.named("publishToMavenLocal") {
    dependsOn(csharpPublishLocal)
}

// The .nupkg files are packed whenever we publish, regardless of where they are going.
tasks.named("publish") {
    dependsOn(csharpPack)
}

// Only the pushes are gated, each on its own credential, so retiring a destination is deleting one
// block and one secret.
if (nugetApiKey() != null) {
    tasks.named("publish") {
        dependsOn(csharpPublish)
    }
}

if (cgpPublishToken() != null) {
    tasks.named("publish") {
        dependsOn(csharpPublishCgp)
    }
}

// ============================================
// License Header Configuration
// ============================================

extensions.configure<LicenseExtension> {
    header = file("${rootProject.projectDir}/gradle/msalLicenseHeader.txt")
}

val licenseCsharp by tasks.registering(LicenseCheck::class) {
    group = "license"
    description = "Check license headers on C# files"
    source = fileTree(csharpDir) { include("**/*.cs"); exclude("**/obj/**", "**/bin/**") }
    header = file("${rootProject.projectDir}/gradle/msalLicenseHeader.txt")
    mapping("cs", "SLASHSTAR_STYLE")
    ext["year"] = Calendar.getInstance().get(Calendar.YEAR)
}

val licenseFormatCsharp by tasks.registering(LicenseFormat::class) {
    group = "license"
    description = "Apply license headers to C# files"
    source = fileTree(csharpDir) { include("**/*.cs"); exclude("**/obj/**", "**/bin/**") }
    header = file("${rootProject.projectDir}/gradle/msalLicenseHeader.txt")
    mapping("cs", "SLASHSTAR_STYLE")
    ext["year"] = Calendar.getInstance().get(Calendar.YEAR)
}

tasks.named("licenseMain") { dependsOn(licenseCsharp) }
tasks.named("licenseFormatMain") { dependsOn(licenseFormatCsharp) }
