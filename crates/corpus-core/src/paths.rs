//! What a path is, by name alone: its language and whether it is a test. Shared by
//! extraction (which records both) and formatting (which filters trees by them).

/// The language of a path, by extension (or well-known file name).
pub fn language(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("py" | "pyi" | "pyx") => "python",
        Some("md" | "markdown") => "markdown",
        Some("rst") => "restructuredtext",
        Some("rs") => "rust",
        Some("go") => "go",
        Some("js" | "mjs" | "cjs" | "jsx") => "javascript",
        Some("ts" | "tsx") => "typescript",
        Some("java") => "java",
        Some("kt" | "kts") => "kotlin",
        Some("c" | "h") => "c",
        Some("cc" | "cpp" | "cxx" | "hpp" | "hh") => "cpp",
        Some("cs") => "csharp",
        Some("rb") => "ruby",
        Some("php") => "php",
        Some("swift") => "swift",
        Some("scala") => "scala",
        Some("sh" | "bash") => "shell",
        Some("toml") => "toml",
        Some("yaml" | "yml") => "yaml",
        Some("json") => "json",
        Some("txt") => "text",
        Some("cfg" | "ini") => "ini",
        Some("html" | "htm") => "html",
        Some("css") => "css",
        _ => match name {
            "Makefile" | "makefile" => "make",
            "Dockerfile" => "dockerfile",
            _ => "other",
        },
    }
}

/// Test files by the usual conventions: test folders, `test_*.py`, `*_test.py`,
/// `conftest.py`, `*_test.go`, `*.test.js`/`*.spec.ts`, `*Test.java`.
pub fn is_test(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let mut parts = lower.split('/');
    let name = parts.next_back().unwrap_or("");
    if parts.any(|d| {
        matches!(
            d,
            "test" | "tests" | "testing" | "__tests__" | "spec" | "specs"
        )
    }) {
        return true;
    }
    let stem = name.rsplit_once('.').map(|(s, _)| s).unwrap_or(name);
    name == "conftest.py"
        || (name.starts_with("test_") && name.ends_with(".py"))
        || stem.ends_with("_test")
        || stem.ends_with(".test")
        || stem.ends_with(".spec")
        || (path.ends_with("Test.java") || path.ends_with("Tests.java"))
}

use crate::drop_reason::DropReason;
use crate::recipe::ExtractOptions;

/// Why a path is skipped by its name alone, if it is.
pub fn skip_by_path(path: &str, options: &ExtractOptions) -> Option<DropReason> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if options.lockfiles.iter().any(|l| l == name) {
        return Some(DropReason::Lockfile);
    }
    let dirs = path.split('/').rev().skip(1);
    if dirs
        .clone()
        .any(|d| options.vendored_dirs.iter().any(|v| v == d))
    {
        return Some(DropReason::Vendored);
    }
    if options
        .generated_suffixes
        .iter()
        .any(|s| name.ends_with(s.as_str()))
    {
        return Some(DropReason::Generated);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_tests() {
        for p in [
            "tests/test_core.py",
            "pkg/test_x.py",
            "pkg/x_test.py",
            "conftest.py",
            "a/testing/util.py",
            "src/foo_test.go",
            "web/app.spec.ts",
            "src/test/java/FooTest.java",
        ] {
            assert!(is_test(p), "{p}");
        }
        for p in ["widgets/core.py", "src/lib.rs", "contest.py", "latest.py"] {
            assert!(!is_test(p), "{p}");
        }
    }

    #[test]
    fn skips_by_path() {
        let o = ExtractOptions::default();
        assert_eq!(skip_by_path("poetry.lock", &o), Some(DropReason::Lockfile));
        assert_eq!(
            skip_by_path("sub/Cargo.lock", &o),
            Some(DropReason::Lockfile)
        );
        assert_eq!(
            skip_by_path("vendor/six.py", &o),
            Some(DropReason::Vendored)
        );
        assert_eq!(
            skip_by_path("a/node_modules/x/index.js", &o),
            Some(DropReason::Vendored)
        );
        assert_eq!(
            skip_by_path("proto/x_pb2.py", &o),
            Some(DropReason::Generated)
        );
        assert_eq!(skip_by_path("vendor", &o), None, "a file named vendor");
        assert_eq!(skip_by_path("widgets/core.py", &o), None);
    }

    #[test]
    fn languages() {
        assert_eq!(language("a/b.py"), "python");
        assert_eq!(language("README.md"), "markdown");
        assert_eq!(language("x.RST"), "restructuredtext");
        assert_eq!(language("Makefile"), "make");
        assert_eq!(language("weird"), "other");
    }
}
