"""Repository languages by size, counted the way GitHub Linguist counts them for the language bar.

A file counts towards its language when its language is known from its name alone (file name, then the
longest matching extension), the language is a programming or markup language (data such as JSON/YAML and
prose such as Markdown never count), and the file is neither vendored, generated nor documentation.
`.gitattributes` files override each of those decisions with Linguist's attributes:
`linguist-vendored`, `linguist-generated`, `linguist-documentation` (set, `=false` or `-attr` to unset),
`linguist-language=NAME` and `linguist-detectable` / `-linguist-detectable`.

Only sizes from the file listing are used; no file is read except `.gitattributes`. That keeps the count
cheap on 100,000-file trees, at the price of Linguist's content heuristics: an ambiguous extension (`.h`,
`.m`) is decided from the rest of the repository instead of from the file's text.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from autodevops.engine.model import Language, LanguageShare

if TYPE_CHECKING:
    from autodevops.engine.detect.base import Context

PROGRAMMING: Final = "programming"
MARKUP: Final = "markup"
DATA: Final = "data"
PROSE: Final = "prose"
DETECTABLE_TYPES: Final = frozenset({PROGRAMMING, MARKUP})


@dataclass(frozen=True, slots=True)
class LanguageInfo:
    """A language as Linguist knows it: its display name, its type and the group it is counted under."""

    name: str
    type: str
    group: str | None = None  # e.g. TSX is counted as TypeScript

    @property
    def counted_as(self) -> str:
        return self.group or self.name


def _langs(*specs: tuple[str, str, str | None]) -> dict[str, LanguageInfo]:
    return {name: LanguageInfo(name, kind, group) for name, kind, group in specs}


LANGUAGES: Final[dict[str, LanguageInfo]] = _langs(
    ("Ada", PROGRAMMING, None),
    ("AsciiDoc", PROSE, None),
    ("Assembly", PROGRAMMING, None),
    ("Astro", MARKUP, None),
    ("Awk", PROGRAMMING, None),
    ("Batchfile", PROGRAMMING, None),
    ("Blade", MARKUP, None),
    ("C", PROGRAMMING, None),
    ("C#", PROGRAMMING, None),
    ("C++", PROGRAMMING, None),
    ("CMake", PROGRAMMING, None),
    ("COBOL", PROGRAMMING, None),
    ("CSS", MARKUP, None),
    ("CSV", DATA, None),
    ("Clojure", PROGRAMMING, None),
    ("CoffeeScript", PROGRAMMING, None),
    ("Common Lisp", PROGRAMMING, None),
    ("Crystal", PROGRAMMING, None),
    ("Cuda", PROGRAMMING, None),
    ("Cython", PROGRAMMING, None),
    ("Dart", PROGRAMMING, None),
    ("Dockerfile", PROGRAMMING, None),
    ("EJS", MARKUP, None),
    ("Elixir", PROGRAMMING, None),
    ("Elm", PROGRAMMING, None),
    ("Emacs Lisp", PROGRAMMING, None),
    ("Erlang", PROGRAMMING, None),
    ("F#", PROGRAMMING, None),
    ("Fortran", PROGRAMMING, None),
    ("GLSL", PROGRAMMING, None),
    ("Gleam", PROGRAMMING, None),
    ("Go", PROGRAMMING, None),
    ("Gradle", DATA, None),
    ("Gradle Kotlin DSL", DATA, "Gradle"),
    ("GraphQL", DATA, None),
    ("Groovy", PROGRAMMING, None),
    ("HCL", PROGRAMMING, None),
    ("HLSL", PROGRAMMING, None),
    ("HTML", MARKUP, None),
    ("HTML+ERB", MARKUP, "HTML"),
    ("HTML+Razor", MARKUP, "HTML"),
    ("Handlebars", MARKUP, None),
    ("Haskell", PROGRAMMING, None),
    ("Haxe", PROGRAMMING, None),
    ("INI", DATA, None),
    ("JSON", DATA, None),
    ("Java", PROGRAMMING, None),
    ("JavaScript", PROGRAMMING, None),
    ("Jinja", MARKUP, None),
    ("Julia", PROGRAMMING, None),
    ("Jupyter Notebook", MARKUP, None),
    ("Just", PROGRAMMING, None),
    ("Kotlin", PROGRAMMING, None),
    ("Less", MARKUP, None),
    ("Liquid", MARKUP, None),
    ("Lua", PROGRAMMING, None),
    ("MATLAB", PROGRAMMING, None),
    ("MDX", MARKUP, None),
    ("Makefile", PROGRAMMING, None),
    ("Markdown", PROSE, None),
    ("Meson", PROGRAMMING, None),
    ("Mustache", MARKUP, None),
    ("Nim", PROGRAMMING, None),
    ("Nix", PROGRAMMING, None),
    ("OCaml", PROGRAMMING, None),
    ("Objective-C", PROGRAMMING, None),
    ("Objective-C++", PROGRAMMING, None),
    ("Org", PROSE, None),
    ("PHP", PROGRAMMING, None),
    ("Pascal", PROGRAMMING, None),
    ("Perl", PROGRAMMING, None),
    ("PowerShell", PROGRAMMING, None),
    ("Prisma", DATA, None),
    ("Protocol Buffer", DATA, None),
    ("Pug", MARKUP, None),
    ("PureScript", PROGRAMMING, None),
    ("Python", PROGRAMMING, None),
    ("R", PROGRAMMING, None),
    ("Racket", PROGRAMMING, None),
    ("ReScript", PROGRAMMING, None),
    ("Reason", PROGRAMMING, None),
    ("Roff", MARKUP, None),
    ("Ruby", PROGRAMMING, None),
    ("Rust", PROGRAMMING, None),
    ("SCSS", MARKUP, None),
    ("SQL", DATA, None),
    ("SVG", DATA, None),
    ("Sass", MARKUP, None),
    ("Scala", PROGRAMMING, None),
    ("Scheme", PROGRAMMING, None),
    ("Shell", PROGRAMMING, None),
    ("Solidity", PROGRAMMING, None),
    ("Starlark", PROGRAMMING, None),
    ("Stylus", MARKUP, None),
    ("Svelte", MARKUP, None),
    ("SystemVerilog", PROGRAMMING, None),
    ("TOML", DATA, None),
    ("TSX", PROGRAMMING, "TypeScript"),
    ("Tcl", PROGRAMMING, None),
    ("TeX", MARKUP, None),
    ("Text", PROSE, None),
    ("Twig", MARKUP, None),
    ("TypeScript", PROGRAMMING, None),
    ("Unix Assembly", PROGRAMMING, "Assembly"),
    ("VHDL", PROGRAMMING, None),
    ("Vim Script", PROGRAMMING, None),
    ("Visual Basic .NET", PROGRAMMING, None),
    ("Vue", MARKUP, None),
    ("XML", DATA, None),
    ("YAML", DATA, None),
    ("Zig", PROGRAMMING, None),
    ("fish", PROGRAMMING, None),
    ("reStructuredText", PROSE, None),
)

# Extensions (lower-case, without the dot). Compound extensions ("blade.php") win over simple ones.
_EXTENSIONS: Final[dict[str, tuple[str, ...]]] = {
    "Ada": ("ada", "adb", "ads"),
    "AsciiDoc": ("adoc", "asciidoc"),
    "Assembly": ("asm", "nasm"),
    "Astro": ("astro",),
    "Awk": ("awk",),
    "Batchfile": ("bat", "cmd"),
    "Blade": ("blade.php",),
    "C": ("c",),  # ".h" is decided per repository, see _header_language
    "C#": ("cs", "csx"),
    "C++": ("cpp", "cc", "cxx", "c++", "hpp", "hh", "hxx", "h++", "ipp", "tpp", "inl", "ino"),
    "CMake": ("cmake",),
    "COBOL": ("cob", "cbl", "cpy"),
    "CSS": ("css",),
    "CSV": ("csv",),
    "Clojure": ("clj", "cljs", "cljc"),
    "CoffeeScript": ("coffee",),
    "Common Lisp": ("lisp", "lsp"),
    "Crystal": ("cr",),
    "Cuda": ("cu", "cuh"),
    "Cython": ("pyx", "pxd", "pxi"),
    "Dart": ("dart",),
    "Dockerfile": ("dockerfile", "containerfile"),
    "EJS": ("ejs",),
    "Elixir": ("ex", "exs"),
    "Elm": ("elm",),
    "Emacs Lisp": ("el",),
    "Erlang": ("erl", "hrl"),
    "F#": ("fs", "fsi", "fsx"),
    "Fortran": ("f", "for", "f77", "f90", "f95", "f03", "f08"),
    "GLSL": ("glsl", "vert", "frag"),
    "Gleam": ("gleam",),
    "Go": ("go",),
    "Gradle": ("gradle",),
    "Gradle Kotlin DSL": ("gradle.kts",),
    "GraphQL": ("graphql", "gql"),
    "Groovy": ("groovy", "gvy"),
    "HCL": ("tf", "tfvars", "hcl"),
    "HLSL": ("hlsl",),
    "HTML": ("html", "htm", "xhtml"),
    "HTML+ERB": ("erb", "html.erb"),
    "HTML+Razor": ("cshtml", "razor"),
    "Handlebars": ("hbs", "handlebars"),
    "Haskell": ("hs", "lhs"),
    "Haxe": ("hx",),
    "INI": ("ini", "cfg"),
    "JSON": ("json", "jsonc", "json5"),
    "Java": ("java",),
    "JavaScript": ("js", "cjs", "mjs", "jsx"),
    "Jinja": ("jinja", "jinja2", "j2"),
    "Julia": ("jl",),
    "Jupyter Notebook": ("ipynb",),
    "Just": ("just",),
    "Kotlin": ("kt", "kts"),
    "Less": ("less",),
    "Liquid": ("liquid",),
    "Lua": ("lua",),
    "MDX": ("mdx",),
    "Makefile": ("mk", "mak", "make"),
    "Markdown": ("md", "markdown"),
    "Mustache": ("mustache",),
    "Nim": ("nim",),
    "Nix": ("nix",),
    "OCaml": ("ml", "mli"),
    "Objective-C": ("m",),  # or MATLAB, decided per repository
    "Objective-C++": ("mm",),
    "Org": ("org",),
    "PHP": ("php", "phtml", "php3", "php4", "php5", "phps"),
    "Pascal": ("pas", "dpr"),  # not ".pp": far more often Puppet
    "Perl": ("pl", "pm", "t"),
    "PowerShell": ("ps1", "psm1", "psd1"),
    "Prisma": ("prisma",),
    "Protocol Buffer": ("proto",),
    "Pug": ("pug", "jade"),
    "PureScript": ("purs",),
    "Python": ("py", "pyi", "pyw"),
    "R": ("r", "rmd"),
    "Racket": ("rkt",),
    "ReScript": ("res", "resi"),
    "Reason": ("re", "rei"),
    "Roff": ("roff", "man"),
    "Ruby": ("rb", "rake", "gemspec", "ru", "rbi"),
    "Rust": ("rs",),
    "SCSS": ("scss",),
    "SQL": ("sql",),
    "SVG": ("svg",),
    "Sass": ("sass",),
    "Scala": ("scala", "sc"),
    "Scheme": ("scm", "ss"),
    "Shell": ("sh", "bash", "zsh", "ksh", "bats"),
    "Solidity": ("sol",),
    "Starlark": ("bzl", "star"),
    "Stylus": ("styl",),
    "Svelte": ("svelte",),
    "SystemVerilog": ("sv", "svh"),
    "TOML": ("toml",),
    "TSX": ("tsx",),
    "Tcl": ("tcl",),
    "TeX": ("tex", "sty"),
    "Text": ("txt",),
    "Twig": ("twig",),
    "TypeScript": ("ts", "cts", "mts"),
    "Unix Assembly": ("s",),
    "VHDL": ("vhd", "vhdl"),
    "Vim Script": ("vim",),
    "Visual Basic .NET": ("vb",),
    "Vue": ("vue",),
    "XML": ("xml", "xsd", "plist", "csproj", "fsproj", "vbproj", "props", "targets"),
    "YAML": ("yml", "yaml"),
    "Zig": ("zig",),
    "fish": ("fish",),
    "reStructuredText": ("rst",),
}

# Whole file names that decide the language regardless of extension (exact, case-sensitive as Linguist).
_FILENAMES: Final[dict[str, tuple[str, ...]]] = {
    "CMake": ("CMakeLists.txt",),
    "Dockerfile": ("Dockerfile", "Containerfile"),
    "Groovy": ("Jenkinsfile",),
    "Just": ("justfile", "Justfile", ".justfile"),
    "Makefile": ("Makefile", "makefile", "GNUmakefile", "BSDmakefile"),
    "Meson": ("meson.build", "meson_options.txt", "meson.options"),
    "Python": ("SConstruct", "SConscript", "wscript"),
    "Ruby": ("Rakefile", "Gemfile", "Podfile", "Brewfile", "Guardfile", "Fastfile", "Appfile", "Dangerfile"),
    "Shell": (".bashrc", ".bash_profile", ".zshrc", ".profile", "PKGBUILD"),
    "Starlark": ("BUILD", "BUILD.bazel", "WORKSPACE", "WORKSPACE.bazel", "MODULE.bazel", "Tiltfile"),
}


def _invert(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {key: lang for lang, keys in table.items() for key in keys}


BY_EXTENSION: Final[dict[str, str]] = _invert(_EXTENSIONS)
BY_FILENAME: Final[dict[str, str]] = _invert(_FILENAMES)

# Names accepted in `linguist-language=` besides the display name (compared lower-case, `-` for a space).
_ALIASES: Final[dict[str, str]] = {
    "bash": "Shell",
    "sh": "Shell",
    "zsh": "Shell",
    "shell-script": "Shell",
    "c++": "C++",
    "cpp": "C++",
    "c#": "C#",
    "csharp": "C#",
    "cs": "C#",
    "f#": "F#",
    "fsharp": "F#",
    "golang": "Go",
    "js": "JavaScript",
    "node": "JavaScript",
    "ts": "TypeScript",
    "py": "Python",
    "python3": "Python",
    "rb": "Ruby",
    "rs": "Rust",
    "kt": "Kotlin",
    "objc": "Objective-C",
    "obj-c": "Objective-C",
    "objective-c": "Objective-C",
    "objc++": "Objective-C++",
    "terraform": "HCL",
    "docker": "Dockerfile",
    "make": "Makefile",
    "vb.net": "Visual Basic .NET",
    "vbnet": "Visual Basic .NET",
    "ipython-notebook": "Jupyter Notebook",
    "md": "Markdown",
    "rst": "reStructuredText",
    "yml": "YAML",
    "matlab": "MATLAB",
    "ocaml": "OCaml",
    "elisp": "Emacs Lisp",
    "emacs": "Emacs Lisp",
    "vim": "Vim Script",
    "viml": "Vim Script",
    "asm": "Assembly",
    "nasm": "Assembly",
    "gas": "Unix Assembly",
}
_BY_LOWER_NAME: Final[dict[str, str]] = {name.lower().replace(" ", "-"): name for name in LANGUAGES}

# How the analyzer's stack `language` vocabulary names Linguist's languages.
STACK_LANGUAGE: Final[dict[str, Language]] = {
    "Python": "python",
    "JavaScript": "javascript",
    "TypeScript": "typescript",
    "Go": "go",
    "Rust": "rust",
    "Java": "java",
    "Kotlin": "kotlin",
    "Ruby": "ruby",
    "PHP": "php",
    "C#": "csharp",
    "Elixir": "elixir",
    "C": "c",
    "C++": "cpp",
    "Swift": "swift",
    "Dart": "dart",
    "Shell": "shell",
}

# ---- exclusion rules ------------------------------------------------------------------------------------
# Directory rules are matched once per directory against "dir/sub/" (the root is ""). File-name rules are
# sets and suffix tuples, with a regex only for the bundled-library names of .js/.css files, so that the
# per-file cost stays a few dictionary and string operations even on 100,000-file trees.

_VENDORED_DIRS = re.compile(
    r"""(?:^|/)(?:
        cache|dist|node_modules|bower_components|testdata|env|admin_media|flow-typed
        |vendors?|[Vv]+endor|[Ee]xtern(?:als?)?|Carthage|Sparkle|MathJax|ace-builds|bootstrap-datepicker|puphpet
        |Godeps/_workspace|\.yarn/(?:releases|plugins|sdks|versions|unplugged)|gradle/wrapper|\.mvn/wrapper
        |(?:Crashlytics|Fabric|BuddyBuildSDK|Realm|RealmSwift)\.framework|\.google_apis|inst/extdata
        |[Tt]ests?/fixtures|[Ss]pecs?/fixtures|docs?/_?(?:build|themes?|templates?|static)
        |[Pp]ackages/.+\.\d+|select2|font-?awesome|[Bb]ourbon|tiny_mce/(?:langs|plugins|themes|utils)
        |[Cc]ode[Mm]irror/(?:\d+\.\d+/)?(?:lib|mode|theme|addon|keymap|demo)|extjs
        |\.github|\.vscode|\.obsidian|\.teamcity
    )/
    |(?:3rd|[Tt]hird)[-_]?[Pp]arty/|\.xctemplate/|\.imageset/
    |^(?:[Dd]ependencies|deps|debian)/
    """,
    re.X,
)
_VENDORED_NAMES: Final = frozenset(
    {
        "configure",
        "config.guess",
        "config.sub",
        "aclocal.m4",
        "libtool.m4",
        "ltoptions.m4",
        "ltsugar.m4",
        "ltversion.m4",
        "lt~obsolete.m4",
        "dotnet-install.ps1",
        "dotnet-install.sh",
        "cpplint.py",
        "erlang.mk",
        ".indent.pro",
        "run.n",
        "fabfile.py",
        "waf",
        "Vagrantfile",
        "Jenkinsfile",
        ".gitpod.Dockerfile",
        "proguard.pro",
        "proguard-rules.pro",
        "gradlew",
        "gradlew.bat",
        "mvnw",
        "mvnw.cmd",
        "activator",
        "activator.bat",
        "dojo.js",
        "ckeditor.js",
        "html5shiv.js",
        "Chart.js",
        "MochiKit.js",
        "shCore.js",
        "shLegacy.js",
        "effects.js",
        "controls.js",
        "dragdrop.js",
        "fuelux.js",
        "bootbox.js",
        "pdf.worker.js",
        "octicons.css",
        "sprockets-octicons.scss",
        ".pnp.js",
        ".pnp.cjs",
        ".pnp.mjs",
        ".pnp.loader.mjs",
    }
)
_VENDORED_SUFFIXES: Final = (
    ".min.js",
    "-min.js",
    ".min.css",
    "-min.css",
    ".d.ts",  # TypeScript declarations are vendored for Linguist
    "import.css",
    "import.less",
    "import.scss",
    "import.styl",
    "-vsdoc.js",
    ".intellisense.js",
)
_BUNDLED_LIBRARY_EXTS: Final = frozenset({"js", "css", "less", "scss", "styl", "sass"})
# Names of libraries commonly copied into a repository. Checked only for names with one of these prefixes,
# and compiled on first need: most repositories have none.
_LIBRARY_PREFIXES: Final = (
    "jquery",
    "bootstrap",
    "custom.bootstrap",
    "font",
    "foundation",
    "normalize",
    "skeleton",
    "animate",
    "materialize",
    "bulma",
    "prototype",
    "mootools",
    "yahoo-",
    "yui",
    "tiny_mce",
    "shBrush",
    "angular",
    "d3",
    "react",
    "modernizr",
    "knockout-",
    "cordova",
    "slick.",
    "Microsoft",
    "microsoft",
)


@functools.cache
def _bundled_libraries() -> re.Pattern[str]:
    return re.compile(
        r"""(?:
            jquery[^.]*\.js|jquery-\d\.\d+(?:\.\d+)?\.js|jquery-ui(?:-\d\.\d+(?:\.\d+)?)?(?:\.\w+)?\.(?:js|css)
            |jquery\.(?:ui|effects)\.[^.]*\.(?:js|css)|jquery\.fileupload(?:-\w+)?\.js|jquery\.fancybox\.(?:js|css)
            |bootstrap[^/.]*(?:\..*)?\.(?:js|css|less|scss|styl)|custom\.bootstrap\S*(?:js|css|less|scss|styl)
            |font-?awesome\.(?:css|less|scss|styl)|(?:foundation|normalize|skeleton|animate)\.(?:css|less|scss|styl)
            |materialize\.(?:css|less|scss|styl|js)|bulma\.(?:css|sass|scss)|foundation(?:\..*)?\.js
            |prototype.*\.js|mootools[^.]*\d+\.\d+.\d+[^.]*\.js|yahoo-[^.]*\.js|yui[^.]*\.js|tiny_mce[^.]*\.js
            |fontello.*\.css|shBrush[^.]*\.js|angular[^.]*\.js|d3(?:\.v\d+)?[^.]*\.js|react(?:-[^.]*)?\.js
            |modernizr-\d\.\d+(?:\.\d+)?\.js|modernizr\.custom\.\d+\.js|knockout-(?:\d+\.){3}(?:debug\.)?js
            |cordova[^.]*\.js|slick\.\w+.js|jquery[^.]*\.validate(?:\.unobtrusive)?\.js|jquery[^.]*\.unobtrusive-ajax\.js
            |[Mm]icrosoft(?:[Mm]vc)?(?:[Aa]jax|[Vv]alidation)(?:\.debug)?\.js|jquery\.dataTables\.js
        )""",
        re.X,
    )


def _bundled_library(name: str, ext: str) -> bool:
    return (
        ext in _BUNDLED_LIBRARY_EXTS
        and name.startswith(_LIBRARY_PREFIXES)
        and _bundled_libraries().fullmatch(name) is not None
    )


_GENERATED_DIRS = re.compile(
    r"""(?:^|/)(?:__generated__|\.idea|Carthage/Build|htmlcov|\.sqlx|sorbet/rbi/(?:gems|hidden-definitions|dsl))/
    |^Pods/""",
    re.X,
)
_GENERATED_NAMES: Final = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "pnpm-lock.yml",
        "bun.lock",
        "bun.lockb",
        "deno.lock",
        "composer.lock",
        "Cargo.lock",
        "Gemfile.lock",
        "poetry.lock",
        "pdm.lock",
        "uv.lock",
        "pixi.lock",
        "Pipfile.lock",
        "flake.lock",
        "MODULE.bazel.lock",
        "Gopkg.lock",
        "glide.lock",
        "go.sum",
        "gradle.lockfile",
        "packages.lock.json",
        "Package.resolved",
        "pubspec.lock",
        "mix.lock",
        "Podfile.lock",
        "esy.lock",
    }
)
_GENERATED_SUFFIXES: Final = (
    # protocol buffers and gRPC stubs
    ".pb.go",
    ".pb.gw.go",
    "_pb2.py",
    "_pb2.pyi",
    "_pb2_grpc.py",
    "_pb2_grpc.pyi",
    ".pb.cc",
    ".pb.h",
    "_pb.js",
    "_pb.d.ts",
    "_grpc_pb.js",
    "_grpc_pb.d.ts",
    ".pb.swift",
    ".pb.dart",
    ".pbenum.dart",
    ".pbjson.dart",
    ".pbgrpc.dart",
    # code generators' conventional names
    ".g.dart",
    ".freezed.dart",
    ".g.cs",
    ".g.i.cs",
    ".designer.cs",
    ".designer.vb",
    ".Designer.cs",
    ".Designer.vb",
    ".feature.cs",
    "_generated.go",
    ".gen.go",
    "_gen.go",
    # IDE state
    ".nib",
    ".xcworkspacedata",
    ".xcuserstate",
    ".meta",
)
_DOCUMENTATION_DIRS = re.compile(
    r"""^(?:[Dd]ocs?|[Mm]an|[Ee]xamples|[Dd]emos?|[Ss]amples?)/
    |(?:^|/)(?:[Dd]ocumentation|[Gg]roovydoc|[Jj]avadoc|inst/doc)/""",
    re.X,
)
# One scan per directory for the common question "is anything here excluded?"
_EXCLUDED_DIRS = re.compile(
    "|".join(f"(?:{p.pattern})" for p in (_VENDORED_DIRS, _GENERATED_DIRS, _DOCUMENTATION_DIRS)), re.X
)
# File names whose part before the first dot marks documentation: README, README.md, LICENSE.txt...
_DOCUMENTATION_STEMS: Final = frozenset(
    {
        "CHANGE",
        "CHANGES",
        "CHANGELOG",
        "CITATION",
        "CITATIONS",
        "CONTRIBUTING",
        "COPYING",
        "INSTALL",
        "LICENSE",
        "LICENCE",
        "License",
        "Licence",
        "license",
        "licence",
        "README",
        "Readme",
        "readme",
    }
)
_AMBIGUOUS_EXTS: Final = frozenset({"h", "m"})  # decided from the rest of the repository
_COMPOUND_LAST: Final = frozenset(key.rpartition(".")[2] for key in BY_EXTENSION if "." in key)


def _vendored_name(name: str, ext: str) -> bool:
    if name in _VENDORED_NAMES or name.endswith(_VENDORED_SUFFIXES):
        return True
    return _bundled_library(name, ext)


def _generated_name(name: str) -> bool:
    return (
        name in _GENERATED_NAMES
        or name.endswith(_GENERATED_SUFFIXES)
        or ".generated." in name
        or name.startswith("zz_generated.")
    )


def _documentation_name(name: str) -> bool:
    return name.partition(".")[0] in _DOCUMENTATION_STEMS


def _by_last_extension(suffixes: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    for suffix in suffixes:
        table.setdefault(suffix.rpartition(".")[2], []).append(suffix)
    return {ext: tuple(items) for ext, items in table.items()}


# The hot loop's view of the tables above: one set of excluded names, suffixes grouped by extension.
_EXCLUDED_NAMES: Final = _VENDORED_NAMES | _GENERATED_NAMES
_EXCLUDED_SUFFIXES_BY_EXT: Final = _by_last_extension(_VENDORED_SUFFIXES + _GENERATED_SUFFIXES)
# Languages that count by default, with the name they count under; ".h" and ".m" wait for the repository mix.
_COUNTED_AS: Final[dict[str | None, str]] = {
    **{name: info.counted_as for name, info in LANGUAGES.items() if info.type in DETECTABLE_TYPES},
    **{ext: ext for ext in _AMBIGUOUS_EXTS},
}


@dataclass(frozen=True, slots=True)
class _Rule:
    """One `.gitattributes` line reduced to the Linguist attributes it sets."""

    pattern: re.Pattern[str]
    base: str  # directory of the .gitattributes file, "" for the root, else "dir/"
    basename_only: bool
    whole_directory: bool  # the last segment is `*` or `**`: whether it matches depends on the directory only
    attrs: dict[str, str | bool]


@dataclass(slots=True)
class _Attrs:
    vendored: bool | None = None
    generated: bool | None = None
    documentation: bool | None = None
    detectable: bool | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class _Directory:
    """What is known about every file of one directory before looking at its name."""

    rules: tuple[tuple[_Rule, bool], ...]  # rules that may apply here, with True when already known to match
    excluded: bool  # vendored, generated or documentation by its path alone


_LINGUIST_KEYS: Final = {
    "linguist-vendored": "vendored",
    "linguist-generated": "generated",
    "linguist-documentation": "documentation",
    "linguist-detectable": "detectable",
    "linguist-language": "language",
}


def language_shares(ctx: Context) -> list[LanguageShare]:
    """Languages of the repository by bytes, largest first, excluding vendored, generated and docs files."""
    rules = _gitattributes_rules(ctx)
    # Without rules that can give a file a language or make it (un)detectable, a file's name alone decides
    # whether it can count; most files stop there, before any directory or exclusion check.
    name_decides = not any("language" in r.attrs or "detectable" in r.attrs for r in rules)
    totals: dict[str, int] = {}  # by the name a language is counted under; ".h"/".m" under "h"/"m" for now
    directories: dict[str, _Directory] = {}
    ext_language: dict[str, str | None] = {}
    by_filename, counted_as = BY_FILENAME, _COUNTED_AS

    for entry in ctx.entries:
        path = entry.path
        slash = path.rfind("/")
        name = path[slash + 1 :]
        dot = name.rfind(".")
        ext = name[dot + 1 :] if dot >= 0 else ""

        language = by_filename.get(name)
        if language is None:
            if ext in ext_language:
                language = ext_language[ext]
            else:
                language = ext_language[ext] = _extension_language(ext)
            if ext in _COMPOUND_LAST:
                second = name.rfind(".", 0, dot)
                if second >= 0:
                    language = BY_EXTENSION.get(name[second + 1 :].lower(), language)
        if name_decides and language not in counted_as:
            continue

        directory = path[: slash + 1]
        where = directories.get(directory)
        if where is None:
            where = directories[directory] = _directory(directory, rules)
        key = counted_as.get(language)
        if where.rules:
            attrs = _apply(where.rules, path, name)
            if attrs is not None:
                if attrs.language:
                    language = find_language(attrs.language) or language
                    key = counted_as.get(language)
                if language is None or attrs.detectable is False:
                    continue
                if attrs.detectable and key is None:
                    key = LANGUAGES[language].counted_as  # a data or prose language made to count
                if key is None:
                    continue
                if attrs.vendored is not None or attrs.generated is not None or attrs.documentation is not None:
                    if not _excluded_with_overrides(attrs, directory, name, ext):
                        totals[key] = totals.get(key, 0) + entry.size
                    continue
        if key is None:
            continue

        if where.excluded:
            continue
        if name in _EXCLUDED_NAMES:
            continue
        suffixes = _EXCLUDED_SUFFIXES_BY_EXT.get(ext)
        if suffixes is not None and name.endswith(suffixes):
            continue
        if ".generated." in name or name.startswith("zz_generated."):
            continue
        if name.partition(".")[0] in _DOCUMENTATION_STEMS:
            continue
        if _bundled_library(name, ext):
            continue
        totals[key] = totals.get(key, 0) + entry.size

    headers = totals.pop("h", None)
    m_files = totals.pop("m", None)
    if m_files:
        # `.m` is Objective-C when the repository has C headers to go with it, else MATLAB (both are common).
        key = "Objective-C" if headers is not None else "MATLAB"
        totals[key] = totals.get(key, 0) + m_files
    if headers is not None:
        key = _header_language(totals)
        totals[key] = totals.get(key, 0) + headers
    return _shares(totals)


def _extension_language(ext: str) -> str | None:
    lower = ext.lower()
    return lower if lower in _AMBIGUOUS_EXTS else BY_EXTENSION.get(lower)


def _excluded_with_overrides(attrs: _Attrs, directory: str, name: str, ext: str) -> bool:
    vendored = attrs.vendored
    if vendored is None:
        vendored = _VENDORED_DIRS.search(directory) is not None or _vendored_name(name, ext)
    generated = attrs.generated
    if generated is None:
        generated = _GENERATED_DIRS.search(directory) is not None or _generated_name(name)
    documentation = attrs.documentation
    if documentation is None:
        documentation = _DOCUMENTATION_DIRS.search(directory) is not None or _documentation_name(name)
    return vendored or generated or documentation


def _directory(directory: str, rules: list[_Rule]) -> _Directory:
    applicable: list[tuple[_Rule, bool]] = []
    for rule in rules:
        if not directory.startswith(rule.base):
            continue
        if rule.whole_directory:
            # Any file name stands for all of them: the pattern's last segment matches every name.
            if rule.pattern.fullmatch(directory[len(rule.base) :] + "x") is not None:
                applicable.append((rule, True))
        else:
            applicable.append((rule, False))
    return _Directory(tuple(applicable), _EXCLUDED_DIRS.search(directory) is not None)


def _apply(rules: tuple[tuple[_Rule, bool], ...], path: str, name: str) -> _Attrs | None:
    """The Linguist attributes of one file: every matching rule in order, later ones winning, as in git."""
    result: _Attrs | None = None
    for rule, known in rules:
        if not known:
            subject = name if rule.basename_only else path[len(rule.base) :]
            if rule.pattern.fullmatch(subject) is None:
                continue
        if result is None:
            result = _Attrs()
        for key, value in rule.attrs.items():
            setattr(result, key, value)
    return result


def _header_language(totals: dict[str, int]) -> str:
    """`.h` belongs to whichever of C, C++ and Objective-C has the most source bytes (C when none has)."""
    candidates = [(totals.get(lang, 0), lang) for lang in ("C", "C++", "Objective-C")]
    best_bytes, best = max(candidates, key=lambda item: item[0])
    return best if best_bytes > 0 else "C"


def _shares(totals: dict[str, int]) -> list[LanguageShare]:
    total = sum(totals.values())
    if total <= 0:
        return []
    ordered = sorted(((b, name) for name, b in totals.items() if b > 0), key=lambda item: (-item[0], item[1]))
    return [LanguageShare(name=name, bytes=b, percent=round(100.0 * b / total, 2)) for b, name in ordered]


def find_language(name: str) -> str | None:
    """Linguist's display name for `linguist-language=` values: `Java`, `c++`, `Objective-C`, `Vim-Script`."""
    key = name.strip().lower()
    return _BY_LOWER_NAME.get(key.replace(" ", "-")) or _ALIASES.get(key)


# ---- .gitattributes -------------------------------------------------------------------------------------


def _gitattributes_rules(ctx: Context) -> list[_Rule]:
    """Every Linguist-relevant rule, root file first, so that deeper and later lines win as in git."""
    paths = sorted(ctx.find(".gitattributes"), key=lambda p: (p.count("/"), p))
    rules: list[_Rule] = []
    for path in paths:
        text = ctx.text(path)
        if not text:
            continue
        base = path[: path.rfind("/") + 1]
        for line in text.splitlines():
            rule = _parse_line(line, base)
            if rule is not None:
                rules.append(rule)
    return rules


def _parse_line(line: str, base: str) -> _Rule | None:
    line = line.strip()
    if not line or line.startswith(("#", "[attr]", "!")):
        return None
    if line.startswith('"'):
        end = line.find('"', 1)
        if end < 0:
            return None
        pattern, rest = line[1:end], line[end + 1 :]
    else:
        pattern, _, rest = line.partition(" ")
        if "\t" in pattern:
            pattern, _, more = pattern.partition("\t")
            rest = more + " " + rest
    attrs: dict[str, str | bool] = {}
    for token in rest.split():
        value: str | bool
        if token.startswith("-"):
            key, value = token[1:], False
        elif token.startswith("!"):
            continue  # "unspecified": leaves Linguist's own decision in place
        elif "=" in token:
            key, _, raw = token.partition("=")
            value = raw if key == "linguist-language" else raw.lower() not in ("false", "0", "no")
        else:
            key, value = token, True
        if key in _LINGUIST_KEYS and not (key == "linguist-language" and not isinstance(value, str)):
            attrs[_LINGUIST_KEYS[key]] = value
    if not attrs or pattern.endswith("/"):
        # git never matches a directory pattern against the files inside it, so "vendor/" sets nothing.
        return None
    pattern = pattern.lstrip("/")
    while pattern.startswith("**/"):
        pattern = pattern[3:]  # "**/x" is "x" at any depth: matched on the file name alone, which is cheaper
        if "/" in pattern:
            pattern = "**/" + pattern
            break
    basename_only = "/" not in pattern
    whole_directory = not basename_only and pattern.rpartition("/")[2] in ("*", "**")
    return _Rule(_compile_pattern(pattern), base, basename_only, whole_directory, attrs)


def _compile_pattern(pattern: str) -> re.Pattern[str]:
    """A gitattributes pattern as a regex: `*` and `?` stay within a path segment, `**` crosses them."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == n:
            out.append("/.*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                out.append(re.escape(c))
                i += 1
            else:
                body = pattern[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end + 1
        elif c == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out))
