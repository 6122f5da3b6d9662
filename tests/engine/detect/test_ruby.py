"""Ruby detection on small fixture repositories: Bundler projects, test runners, linters, versions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from detect_fixtures import run_detector

from autodevops.engine.detect import ruby
from autodevops.engine.detect.base import Context
from autodevops.engine.model import Stack

TODAY = dt.date(2026, 11, 26)  # Ruby 3.3, 3.4 and 4.0 are supported; 3.2 ended in March 2026


def analyze(root: Path, files: dict[str, str]) -> tuple[list[Stack], Context]:
    return run_detector(ruby.detect, root, files, TODAY)


def test_a_floor_of_an_old_ruby_line_starts_the_matrix_there(tmp_path: Path) -> None:
    # Long-lived gems still promise Ruby 2.3: the matrix starts at the line they name, not at the table's oldest.
    (stack,), _ = analyze(
        tmp_path,
        {
            "Gemfile": "source 'https://rubygems.org'\ngemspec\n",
            "rake.gemspec": "Gem::Specification.new do |s|\n"
            '  s.required_ruby_version = Gem::Requirement.new(">= 2.3")\nend\n',
        },
    )
    assert stack.versions[:2] == ["2.3", "2.4"]


def test_an_end_of_life_required_ruby_version_stays_in_the_matrix_with_a_finding(tmp_path: Path) -> None:
    (stack,), ctx = analyze(
        tmp_path,
        {
            "Gemfile": "source 'https://rubygems.org'\ngemspec\n",
            "old.gemspec": "Gem::Specification.new do |s|\n  s.required_ruby_version = '>= 2.7.0'\nend\n",
        },
    )
    assert stack.versions == ["2.7", "3.0", "3.1", "3.2", "3.3", "3.4", "4.0"]
    (finding,) = [f for f in ctx.findings if f.code == "eol-runtime"]
    assert "ruby 2.7 through 3.2," in finding.message
    assert "ruby 3.3" in finding.message
    assert finding.evidence[0].file == "old.gemspec"


def test_gem_with_rspec_rake_and_rubocop(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {
            "Gemfile": "source 'https://rubygems.org'\ngemspec\ngem 'rake'\ngem 'rspec', '~> 3'\n"
            "gem 'rubocop-performance', require: false\n",
            "mygem.gemspec": "Gem::Specification.new do |s|\n  s.required_ruby_version = '>= 3.4'\n"
            "  s.add_dependency 'redis', '>= 5'\nend\n",
            "Rakefile": "task default: :spec\n",
            ".rspec": "--require spec_helper\n",
            "spec/mygem_spec.rb": "",
            "vendor/bundle/ruby/3.4.0/gems/x/Gemfile": "",
        },
    )
    assert stack.path == "."
    assert stack.package_manager == "bundler"
    assert stack.manifests == ["Gemfile", "mygem.gemspec"]
    assert stack.versions == ["3.4", "4.0"]
    assert stack.provenance["versions"].evidence[0].key == "required_ruby_version"
    assert stack.test_tool == "rspec"
    assert stack.test_commands == ["bundle exec rake"]
    assert stack.lint_tools == ["rubocop"]
    assert stack.lint_commands == ["bundle exec rubocop"]
    assert stack.services == ["redis"]
    assert stack.build_commands == []


def test_ruby_version_file_pins_and_eol_is_reported(tmp_path: Path) -> None:
    (stack,), ctx = analyze(tmp_path, {"Gemfile": "gem 'minitest'\n", ".ruby-version": "ruby-3.1.4\n"})
    assert stack.versions == ["3.1.4"]
    assert any(f.code == "eol-runtime" for f in ctx.findings)


def test_gemfile_ruby_directive(tmp_path: Path) -> None:
    (exact,), _ = analyze(tmp_path / "a", {"Gemfile": 'ruby "3.3.6"\ngem "rails"\n'})
    assert exact.versions == ["3.3.6"]
    (ranged,), _ = analyze(tmp_path / "b", {"Gemfile": 'ruby ">= 3.3", "< 4"\n'})
    assert ranged.versions == ["3.3", "3.4"]
    (from_file,), _ = analyze(tmp_path / "c", {"Gemfile": 'ruby file: ".ruby-version"\n', ".ruby-version": "3.4.2\n"})
    assert from_file.versions == ["3.4.2"]


def test_minitest_without_rakefile_runs_the_test_files(tmp_path: Path) -> None:
    (stack,), _ = analyze(tmp_path, {"Gemfile": "gem 'minitest'\n", "test/test_helper.rb": "", "test/app_test.rb": ""})
    assert stack.test_tool == "minitest"
    assert stack.test_commands[0].startswith("bundle exec ruby -Itest")


def test_rails_application_services_and_missing_lockfile(tmp_path: Path) -> None:
    (stack,), ctx = analyze(
        tmp_path,
        {
            "Gemfile": "gem 'rails'\ngem 'pg'\ngem 'standard', group: :development\n",
            "config/application.rb": "",
            "config/database.yml": "default: &default\n  adapter: postgresql\n",
            "test/models/user_test.rb": "",
        },
    )
    assert stack.frameworks == ["rails"]
    assert stack.services == ["postgres"]
    assert stack.lint_tools == ["standardrb"]
    assert stack.test_commands == ["bin/rails test"]
    assert any(f.code == "no-lockfile" for f in ctx.findings)


def test_every_gemfile_is_its_own_stack(tmp_path: Path) -> None:
    stacks, _ = analyze(
        tmp_path,
        {"Gemfile": "gem 'minitest'\n", "contrib/Gemfile": "gem 'rspec'\n", "contrib/spec/a_spec.rb": ""},
    )
    by_path = {s.path: s for s in stacks}
    assert sorted(by_path) == [".", "contrib"]
    assert by_path["contrib"].test_tool == "rspec"
    assert by_path["."].test_tool == "minitest"


def test_no_declared_version_proposes_every_supported_line(tmp_path: Path) -> None:
    (stack,), _ = analyze(tmp_path, {"Gemfile": "gem 'rspec'\n"})
    assert stack.versions == ["3.3", "3.4", "4.0"]
    assert stack.provenance["versions"].confidence == 0.5


def test_gems_gated_on_ruby_version_reveal_the_oldest_line_the_bundle_runs_on(tmp_path: Path) -> None:
    gemfile = (
        "gem 'rspec'\n"
        "gem 'ruby-lsp' if Gem::Version.new(RUBY_VERSION) >= Gem::Version.new('3.0.0')  # not on 2.x\n"
        "gem 'simplecov' if RUBY_VERSION >= \"3.2\"\n"
        "# gem 'old' if RUBY_VERSION < '2.5'\n"
    )
    (stack,), ctx = analyze(tmp_path, {"Gemfile": gemfile})
    # Resolved on Rubies older than 3.0 too: 2.7 is the line before it.
    assert stack.versions == ["2.7", "3.0", "3.1", "3.2", "3.3", "3.4", "4.0"]
    provenance = stack.provenance["versions"]
    assert provenance.confidence == 0.6
    assert (provenance.evidence[0].file, provenance.evidence[0].line) == ("Gemfile", 2)
    assert any(f.code == "eol-runtime" for f in ctx.findings)


def test_an_inclusive_upper_gate_or_a_declared_floor_decides_instead(tmp_path: Path) -> None:
    (gated,), _ = analyze(tmp_path / "gated", {"Gemfile": "gem 'rspec'\ngem 'x' if RUBY_VERSION <= '3.1'\n"})
    assert gated.versions == ["3.1", "3.2", "3.3", "3.4", "4.0"]
    declared = {"Gemfile": "ruby '>= 3.3'\ngem 'rspec'\ngem 'x' if RUBY_VERSION >= '3.0'\n"}
    (stack,), _ = analyze(tmp_path / "declared", declared)
    assert stack.versions == ["3.3", "3.4", "4.0"]


def test_a_nested_bundle_without_a_ruby_of_its_own_takes_the_enclosing_matrix(tmp_path: Path) -> None:
    stacks, _ = analyze(
        tmp_path,
        {
            "Gemfile": "gem 'minitest'\nif RUBY_ENGINE == 'jruby'\n  gem 'jruby-openssl'\nend\n",
            "root.gemspec": "Gem::Specification.new do |s|\n  s.required_ruby_version = '>= 3.2'\nend\n",
            "contrib/Gemfile": "gem 'rspec'\n",
            "contrib/spec/a_spec.rb": "",
            "pinned/Gemfile": "ruby '3.4.1'\ngem 'rspec'\n",
            "pinned/spec/a_spec.rb": "",
        },
    )
    by_path = {s.path: s for s in stacks}
    assert by_path["."].versions == ["3.2", "3.3", "3.4", "4.0", "jruby"]
    assert by_path["contrib"].versions == by_path["."].versions
    assert by_path["contrib"].provenance["versions"].evidence[0].file == "root.gemspec"
    assert by_path["pinned"].versions == ["3.4.1"]  # its own declaration wins


def test_a_nested_bundle_with_nothing_to_test_is_not_a_stack(tmp_path: Path) -> None:
    stacks, _ = analyze(
        tmp_path,
        {"Gemfile": "gem 'minitest'\n", "test/a_test.rb": "", "benchmark/Gemfile": "gem 'benchmark-ips'\n"},
    )
    assert [s.path for s in stacks] == ["."]


def test_rspec_configured_but_not_in_the_bundle_is_reported(tmp_path: Path) -> None:
    _, ctx = analyze(tmp_path, {"Gemfile": "gem 'rake'\n", ".rspec": "--color\n", "spec/a_spec.rb": ""})
    assert any(f.code == "test-runner-not-installed" for f in ctx.findings)


def test_gems_of_an_evaluated_shared_gemfile_count(tmp_path: Path) -> None:
    (stack,), ctx = analyze(
        tmp_path,
        {
            "Gemfile": 'eval_gemfile "Gemfile.dev"\ngem "rake"\n',
            "Gemfile.dev": "gem 'rspec'\ngem 'rubocop'\n",
            ".rspec": "",
            "spec/a_spec.rb": "",
        },
    )
    assert stack.test_tool == "rspec"
    assert stack.lint_tools == ["rubocop"]
    assert stack.provenance["lint_tools"].evidence[0].file == "Gemfile.dev"
    assert not any(f.code == "test-runner-not-installed" for f in ctx.findings)


def test_a_bundle_of_mobile_or_docs_tooling_is_not_a_ruby_project(tmp_path: Path) -> None:
    stacks, _ = analyze(
        tmp_path,
        {
            # A Swift library's bundle: CocoaPods and its documentation generator.
            "Gemfile": 'source "https://rubygems.org"\n\ngem "cocoapods"\ngem "jazzy"\n',
            "Gemfile.lock": "",
            "docs/Gemfile": "gem 'github-pages'\ngem 'jekyll-feed'\n",
            "ios/Podfile": "",
            "app/Gemfile": "source 'https://rubygems.org'\ngem 'fastlane'\ngem 'cocoapods'\n",
        },
    )
    assert stacks == []


def test_a_pin_outside_the_declared_range_is_a_conflict(tmp_path: Path) -> None:
    (stack,), ctx = analyze(
        tmp_path,
        {
            "Gemfile": "gemspec\n",
            "g.gemspec": "Gem::Specification.new do |s|\n  s.required_ruby_version = '>= 3.3'\nend\n",
            ".ruby-version": "3.2.4\n",
        },
    )
    assert stack.versions == ["3.3", "3.4", "4.0"]  # the gem's promise, not the developers' (refused) pin
    conflict = next(f for f in ctx.findings if f.code == "version-conflict")
    assert [e.file for e in conflict.evidence] == [".ruby-version", "g.gemspec"]
    _, fine = analyze(tmp_path / "ok", {"Gemfile": "ruby '>= 3.3'\n", ".ruby-version": "3.4.1\n"})
    assert not any(f.code == "version-conflict" for f in fine.findings)


def test_ruby_implementations_the_gemfile_provides_for_join_the_matrix(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {
            "Gemfile": "source 'https://rubygems.org'\ngemspec\n"
            "gem 'rbs', '4.1' if RUBY_ENGINE == 'jruby'\n"
            "platforms :truffleruby do\n  gem 'x'\nend\n",
            "lib.gemspec": "Gem::Specification.new do |s|\n  s.required_ruby_version = '>= 3.3'\nend\n",
        },
    )
    assert stack.versions == ["3.3", "3.4", "4.0", "jruby", "truffleruby"]
    evidence = {e.key: e.line for e in stack.provenance["versions"].evidence}
    assert evidence["RUBY_ENGINE"] == 3
    assert evidence["platforms"] == 4


def test_an_inline_platforms_option_or_an_mri_check_adds_no_implementation(tmp_path: Path) -> None:
    # Generated Rails Gemfiles name jruby for tzinfo-data whatever the project runs on.
    (stack,), _ = analyze(
        tmp_path,
        {
            "Gemfile": "source 'https://rubygems.org'\n"
            'gem "tzinfo-data", platforms: %i[ windows jruby ]\n'
            "gem 'stackprof' if RUBY_ENGINE == 'ruby' # not on jruby\n",
        },
    )
    assert stack.versions == ["3.3", "3.4", "4.0"]


def test_a_bundled_brakeman_is_another_linter_without_a_command(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {
            "Gemfile": "source 'https://rubygems.org'\ngem 'rails'\ngem 'standard'\ngroup :development do\n"
            "  gem 'brakeman'\n  gem 'bundler-audit'\nend\n",
            "Gemfile.lock": "",
            "spec/a_spec.rb": "",
        },
    )
    assert stack.lint_tools == ["standardrb", "other"]
    assert stack.lint_commands == ["bundle exec standardrb"]
    assert stack.provenance["lint_tools"].confidence < 0.8


def test_a_rails_app_whose_assets_a_bundler_compiles_builds_them(tmp_path: Path) -> None:
    gemfile = 'source "https://rubygems.org"\ngem "rails"\ngem "propshaft"\ngem "importmap-rails"\n'
    app = {"config/application.rb": "module Shop; end\n", "bin/rails": "", "Gemfile.lock": ""}
    (stack,), _ = analyze(tmp_path / "a", {"Gemfile": gemfile + 'gem "tailwindcss-rails"\n', **app})
    assert stack.build_commands == ["bin/rails assets:precompile"]
    assert stack.provenance["build_commands"].evidence[0].key == "tailwindcss-rails"
    # importmap and propshaft serve the committed files as they are: nothing to build.
    (stack,), _ = analyze(tmp_path / "b", {"Gemfile": gemfile, **app})
    assert stack.build_commands == []


def test_a_gems_promised_rubies_outrank_the_developers_pin(tmp_path: Path) -> None:
    gemspec = 'Gem::Specification.new do |s|\n  s.name = "lib"\n  s.required_ruby_version = ">= 3.3"\nend\n'
    files = {
        "Gemfile": 'source "https://rubygems.org"\ngemspec\n',
        "lib.gemspec": gemspec,
        ".tool-versions": "ruby 4.0.1\n",
    }
    (gem,), _ = analyze(tmp_path / "gem", files)
    assert gem.versions == ["3.3", "3.4", "4.0"]
    # an application (no gemspec) runs on the Ruby its developers pin
    (app,), _ = analyze(tmp_path / "app", {"Gemfile": 'source "https://rubygems.org"\n', ".ruby-version": "3.4.2\n"})
    assert app.versions == ["3.4.2"]
