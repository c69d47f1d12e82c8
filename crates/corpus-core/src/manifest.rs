//! `_manifest.json`: what a table holds and what it was made from. Written last, atomically;
//! its presence is what makes a table complete.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};
use crate::schema::SCHEMA_VERSION;

pub const MANIFEST_FILE: &str = "_manifest.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartInfo {
    pub file: String,
    pub rows: u64,
    pub bytes: u64,
    pub xxh3: String,
    /// Tokens in the part (shards only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<u64>,
    /// The digest of the decontamination certificate this shard was made under (shards only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub table: String,
    pub schema_version: u32,
    pub tool_version: String,
    pub tool_commit: String,
    /// Stages whose parts this table holds (one, except for `drops`).
    pub stages: BTreeMap<String, StageEntry>,
    pub rows: u64,
    pub parts: Vec<PartInfo>,
    /// What the tokens of a token table add up to and how they were made (shards only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<TokenSummary>,
    /// What decontamination checked and removed before these shards (shards only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decontam: Option<DecontamCertificate>,
}

/// What decontamination checked and removed, as the shards' manifest states it: which
/// benchmark families (at which registry version), which cutoff, and how many samples each
/// family and reason removed. Every shard names its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecontamCertificate {
    /// `family@version` of every family checked, comma-separated.
    pub registry: String,
    pub families: Vec<String>,
    /// `YYYY-MM-DD`: no PR merged on or after it is in the shards.
    pub cutoff: Option<String>,
    /// The latest merge (`YYYY-MM-DD`) of any PR (or commit without a PR) the shards hold.
    pub latest_merged_at: Option<String>,
    /// Samples removed per family (`cutoff` for the date, `benchmark_files` and `extra` for
    /// the recipe's own) and reason.
    pub dropped: BTreeMap<String, BTreeMap<String, u64>>,
    /// Repositories extraction skipped by name before any work, per family.
    pub repos_skipped: BTreeMap<String, u64>,
    /// xxh3 of the fields above.
    pub digest: String,
}

impl DecontamCertificate {
    /// The digest of everything but the digest itself.
    pub fn compute_digest(&self) -> String {
        let mut fingerprint = crate::hash::Fingerprint::new();
        fingerprint.field("registry", self.registry.as_bytes());
        fingerprint.field("families", self.families.join(",").as_bytes());
        fingerprint.field("cutoff", self.cutoff.as_deref().unwrap_or("").as_bytes());
        let latest = self.latest_merged_at.as_deref().unwrap_or("");
        fingerprint.field("latest_merged_at", latest.as_bytes());
        for (family, reasons) in &self.dropped {
            for (reason, n) in reasons {
                fingerprint.field(&format!("dropped:{family}:{reason}"), &n.to_le_bytes());
            }
        }
        for (family, n) in &self.repos_skipped {
            fingerprint.field(&format!("skipped:{family}"), &n.to_le_bytes());
        }
        fingerprint.finish()
    }
}

/// The token side of a shards manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSummary {
    pub tokenizer: String,
    pub tokenizer_sha256: String,
    /// Hash of the effective recipe the run used.
    pub recipe_hash: String,
    pub total: u64,
    /// Tokens per source, per split (`train`, `validation`).
    pub per_source: BTreeMap<String, BTreeMap<String, u64>>,
}

/// What one stage wrote into the table and from what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageEntry {
    /// Fingerprint of the stage's config and inputs: unchanged means the table is current.
    pub fingerprint: String,
    pub config_hash: String,
    pub inputs: BTreeMap<String, String>,
    pub rows: u64,
    /// Rows this stage removed, by reason (details in `drops`).
    pub dropped: BTreeMap<String, u64>,
    /// Tokens of the removed rows, by reason, where the stage counted them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dropped_tokens: BTreeMap<String, u64>,
    /// What else the stage counted (e.g. synthesize: variants tried and kept, tokens the
    /// model generated), summed over its units.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub counters: BTreeMap<String, u64>,
}

impl Manifest {
    pub fn new(table: &str) -> Self {
        Self {
            table: table.to_string(),
            schema_version: SCHEMA_VERSION,
            tool_version: crate::version::VERSION.to_string(),
            tool_commit: crate::version::GIT_COMMIT.to_string(),
            stages: BTreeMap::new(),
            rows: 0,
            parts: Vec::new(),
            tokens: None,
            decontam: None,
        }
    }

    /// Read a table's manifest; `None` when the table was never completed. A manifest of
    /// another schema version is an error: the run directory must not mix versions.
    pub fn read(table_dir: &Path) -> Result<Option<Self>> {
        let path = table_dir.join(MANIFEST_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io_path("read", &path, e)),
        };
        Self::parse(&text, &path.display().to_string()).map(Some)
    }

    /// A manifest's text, read from `origin` (a path or URL, for messages).
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        #[derive(Deserialize)]
        struct VersionOnly {
            schema_version: u32,
        }
        let version: VersionOnly = serde_json::from_str(text)
            .map_err(|e| Error::Input(format!("{origin}: not a manifest: {e}")))?;
        if version.schema_version != SCHEMA_VERSION {
            return Err(Error::Config(format!(
                "{origin} was written with schema version {}, this swe-corpus writes version {}: \
                 use a new run directory (--run) or delete this one",
                version.schema_version, SCHEMA_VERSION
            )));
        }
        serde_json::from_str(text)
            .map_err(|e| Error::Input(format!("{origin}: malformed manifest: {e}")))
    }

    /// Write atomically (temporary file, sync, rename).
    pub fn write(&self, table_dir: &Path) -> Result<()> {
        std::fs::create_dir_all(table_dir).at("create directory", table_dir)?;
        let path = table_dir.join(MANIFEST_FILE);
        let mut text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::Internal(format!("serialize manifest: {e}")))?;
        text.push('\n');
        write_atomically(&path, text.as_bytes())
    }

    /// Replace the parts and entry of `stage` (parts of other stages stay, for `drops`).
    pub fn set_stage(
        &mut self,
        stage: &str,
        part_prefix: &str,
        parts: Vec<PartInfo>,
        entry: StageEntry,
    ) {
        self.parts
            .retain(|p| !p.file.starts_with(&format!("{part_prefix}-")));
        self.parts.extend(parts);
        self.parts.sort_by(|a, b| a.file.cmp(&b.file));
        self.rows = self.parts.iter().map(|p| p.rows).sum();
        self.stages.insert(stage.to_string(), entry);
        self.tool_version = crate::version::VERSION.to_string();
        self.tool_commit = crate::version::GIT_COMMIT.to_string();
    }
}

/// Remove temporary manifests a killed writer left in `table_dir` (only the barrier of the
/// stage that owns the table writes there, so none is in use).
pub fn clear_stale_temporaries(table_dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(table_dir) else {
        return Ok(());
    };
    let lead = format!(".{MANIFEST_FILE}.");
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&lead) && name.ends_with(".tmp") {
            std::fs::remove_file(entry.path()).at("remove", &entry.path())?;
        }
    }
    Ok(())
}

/// A temporary name beside `path` that no other writer uses: threads of one process and
/// cluster tasks may write the same file at once, each through its own temporary.
pub fn unique_temporary(path: &Path) -> std::path::PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// Write a file so that it either exists whole under its name or not at all.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let tmp = unique_temporary(path);
    let mut file = std::fs::File::create(&tmp).at("create", &tmp)?;
    file.write_all(bytes).at("write", &tmp)?;
    file.sync_all().at("sync", &tmp)?;
    drop(file);
    std::fs::rename(&tmp, path).at("rename into place", path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_versions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut manifest = Manifest::new("patches");
        manifest.set_stage(
            "extract",
            "part",
            vec![PartInfo {
                file: "part-00000.parquet".into(),
                rows: 3,
                bytes: 10,
                xxh3: "00".into(),
                tokens: None,
                certificate: None,
            }],
            StageEntry {
                fingerprint: "f".into(),
                config_hash: "c".into(),
                inputs: BTreeMap::new(),
                rows: 3,
                dropped: BTreeMap::new(),
                dropped_tokens: BTreeMap::new(),
                counters: BTreeMap::new(),
            },
        );
        manifest.write(dir.path()).expect("write");
        let back = Manifest::read(dir.path()).expect("read").expect("present");
        assert_eq!(back, manifest);
        assert_eq!(back.rows, 3);

        let text = std::fs::read_to_string(dir.path().join(MANIFEST_FILE)).expect("text");
        let old = text.replace(
            &format!("\"schema_version\": {SCHEMA_VERSION}"),
            "\"schema_version\": 999",
        );
        std::fs::write(dir.path().join(MANIFEST_FILE), old).expect("write old");
        let err = Manifest::read(dir.path()).expect_err("other version");
        assert!(err.to_string().contains("schema version 999"), "{err}");
    }

    #[test]
    fn missing_manifest_is_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(Manifest::read(dir.path()).expect("read").is_none());
    }
}
