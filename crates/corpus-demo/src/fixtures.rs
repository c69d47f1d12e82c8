//! The demo's file histories as files: a file's first version, then each later version as a
//! unified diff on the one before (`fixtures/`). A version is read by its number, from 1.

use crate::DemoError;

/// Every version of one file.
pub(crate) struct Versions(Vec<String>);

impl Versions {
    /// The first version and the patches that make the second, the third, ...
    pub(crate) fn of(first: &str, patches: &[&str]) -> Result<Self, DemoError> {
        let mut versions = vec![first.to_string()];
        for (n, text) in patches.iter().enumerate() {
            let script = |e: &dyn std::fmt::Display| {
                DemoError::Script(format!("fixture version {}: {e}", n + 2))
            };
            let patch = diffy::Patch::from_str(text).map_err(|e| script(&e))?;
            let previous = versions.last().map(String::as_str).unwrap_or_default();
            versions.push(diffy::apply(previous, &patch).map_err(|e| script(&e))?);
        }
        Ok(Self(versions))
    }

    /// Version `n` (from 1) as text.
    pub(crate) fn text(&self, n: usize) -> &str {
        &self.0[n - 1]
    }

    /// Version `n` (from 1) as bytes.
    pub(crate) fn v(&self, n: usize) -> &[u8] {
        self.text(n).as_bytes()
    }
}

/// The versions of a file of `fixtures/`: `$stem_v1.$ext`, then `$stem_v2.diff`, ...
macro_rules! versions {
    ($dir:literal, $stem:literal, $ext:literal, $($n:literal),*) => {
        $crate::fixtures::Versions::of(
            include_str!(concat!("../fixtures/", $dir, "/", $stem, "_v1.", $ext)),
            &[$(include_str!(concat!("../fixtures/", $dir, "/", $stem, "_v", $n, ".diff"))),*],
        )
    };
}
pub(crate) use versions;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_versions_are_patches_on_the_one_before() {
        let patch = "--- a\n+++ b\n@@ -1,2 +1,2 @@\n one\n-two\n+three\n";
        let v = Versions::of("one\ntwo\n", &[patch]).expect("apply");
        assert_eq!(v.text(1), "one\ntwo\n");
        assert_eq!(v.text(2), "one\nthree\n");
    }

    #[test]
    fn a_patch_that_does_not_fit_is_an_error() {
        let patch = "--- a\n+++ b\n@@ -1,2 +1,2 @@\n one\n-four\n+three\n";
        let err = Versions::of("one\ntwo\n", &[patch]).err().expect("refused");
        assert!(err.to_string().contains("fixture version 2"), "{err}");
    }
}
