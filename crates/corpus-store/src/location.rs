//! Where a run lives: a local folder, or a URL of an object store (`s3://bucket/prefix`, and
//! `gs://`, `az://`, `memory://` for tests). A URL is shown only redacted: scheme, bucket
//! and prefix, never user information or a query.

use std::path::{Path, PathBuf};

use crate::error::{Result, StoreError};

/// Environment variables whose values are credentials: their values are masked in every
/// message this crate produces, whatever printed them.
const SECRET_VARIABLES: &[&str] = &[
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "GOOGLE_SERVICE_ACCOUNT_KEY",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_SAS_KEY",
    "AZURE_CLIENT_SECRET",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunLocation {
    Local(PathBuf),
    Remote(RemoteUrl),
}

/// An object-store URL with no credentials in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    url: url::Url,
}

impl RunLocation {
    /// A `--run` argument: a URL when it has a scheme (`s3://…`), else a folder.
    pub fn parse(arg: &Path) -> Result<Self> {
        let Some(text) = arg.to_str().filter(|t| t.contains("://")) else {
            return Ok(Self::Local(arg.to_path_buf()));
        };
        if let Some(path) = text.strip_prefix("file://") {
            return Ok(Self::Local(PathBuf::from(path)));
        }
        let url = url::Url::parse(text).map_err(|e| {
            StoreError::Config(format!("--run {}: not a URL ({e})", redact_url_text(text)))
        })?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(StoreError::Config(format!(
                "--run {}: the URL carries credentials; put them in the environment \
                 (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, …), never on the command line",
                redact_url_text(text)
            )));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(StoreError::Config(format!(
                "--run {}: a run URL is scheme://bucket/prefix, without a query",
                redact_url_text(text)
            )));
        }
        match url.scheme() {
            "s3" | "s3a" | "gs" | "az" | "abfs" | "abfss" | "memory" => {}
            other => {
                return Err(StoreError::Config(format!(
                    "--run {}: `{other}` is not a store swe-corpus writes runs to \
                     (s3://, gs://, az://, or a local folder)",
                    redact_url_text(text)
                )));
            }
        }
        if url.scheme() != "memory" && url.host_str().unwrap_or("").is_empty() {
            return Err(StoreError::Config(format!(
                "--run {}: name the bucket (scheme://bucket/prefix)",
                redact_url_text(text)
            )));
        }
        Ok(Self::Remote(RemoteUrl { url }))
    }
}

impl RemoteUrl {
    pub fn url(&self) -> &url::Url {
        &self.url
    }

    /// `scheme://bucket/`: what DataFusion registers the store under.
    pub fn store_base(&self) -> String {
        format!(
            "{}://{}/",
            self.url.scheme(),
            self.url.host_str().unwrap_or("")
        )
    }

    /// The prefix inside the bucket, without slashes at its ends.
    pub fn prefix(&self) -> String {
        self.url.path().trim_matches('/').to_string()
    }

    /// The URL of `relative` under the run (`s3://bucket/prefix/relative`).
    pub fn join(&self, relative: &str) -> String {
        let prefix = self.prefix();
        if prefix.is_empty() {
            format!("{}{relative}", self.store_base())
        } else {
            format!("{}{prefix}/{relative}", self.store_base())
        }
    }

    /// A folder name for this run's scratch copy: the redacted URL, made safe for a path.
    pub fn scratch_name(&self) -> String {
        let text = self.to_string();
        let safe: String = text
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!(
            "{safe}-{:016x}",
            xxhash_rust::xxh3::xxh3_64(text.as_bytes())
        )
    }
}

impl std::fmt::Display for RemoteUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.store_base(), self.prefix())
    }
}

/// A URL given on the command line, shown without anything after `@`-user information or `?`.
fn redact_url_text(text: &str) -> String {
    let without_query = text.split(['?', '#']).next().unwrap_or("");
    match (without_query.find("://"), without_query.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!(
                "{}://***@{}",
                &without_query[..scheme_end],
                &without_query[at + 1..]
            )
        }
        _ => without_query.to_string(),
    }
}

/// A message with every credential the environment holds masked, and the query of any URL
/// in it (a presigned signature) removed.
pub fn redact(message: &str) -> String {
    let mut out = message.to_string();
    for name in SECRET_VARIABLES {
        if let Ok(value) = std::env::var(name)
            && value.len() >= 4
        {
            out = out.replace(&value, "***");
        }
    }
    out.split(' ')
        .map(|word| {
            if word.contains("://") && word.contains('?') {
                word.split('?').next().unwrap_or("").to_string()
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_stays_a_folder_and_a_url_is_a_store() {
        assert_eq!(
            RunLocation::parse(Path::new("runs/demo")).expect("parses"),
            RunLocation::Local(PathBuf::from("runs/demo"))
        );
        assert_eq!(
            RunLocation::parse(Path::new("file:///tmp/x")).expect("parses"),
            RunLocation::Local(PathBuf::from("/tmp/x"))
        );
        let RunLocation::Remote(remote) =
            RunLocation::parse(Path::new("s3://corpus/runs/demo/")).expect("parses")
        else {
            panic!("a URL is remote");
        };
        assert_eq!(remote.to_string(), "s3://corpus/runs/demo");
        assert_eq!(remote.prefix(), "runs/demo");
        assert_eq!(remote.join("tables/x"), "s3://corpus/runs/demo/tables/x");
        assert_eq!(remote.store_base(), "s3://corpus/");
    }

    #[test]
    fn credentials_in_the_url_are_refused_without_being_echoed() {
        let err = RunLocation::parse(Path::new("s3://AKIAXX:verysecret@corpus/runs"))
            .expect_err("refused")
            .to_string();
        assert!(err.contains("environment"), "{err}");
        assert!(
            !err.contains("verysecret") && !err.contains("AKIAXX"),
            "{err}"
        );
        let err = RunLocation::parse(Path::new("s3://corpus/runs?X-Amz-Signature=abcdef"))
            .expect_err("refused")
            .to_string();
        assert!(!err.contains("abcdef"), "{err}");
        let err = RunLocation::parse(Path::new("ftp://corpus/runs"))
            .expect_err("refused")
            .to_string();
        assert!(err.contains("not a store"), "{err}");
        let err = RunLocation::parse(Path::new("s3:///runs"))
            .expect_err("refused")
            .to_string();
        assert!(err.contains("bucket"), "{err}");
    }

    #[test]
    fn redaction_removes_queries() {
        assert_eq!(
            redact("GET http://h/b/k?X-Amz-Signature=zz failed"),
            "GET http://h/b/k failed"
        );
    }
}
