//! Deduplication of every PR of a run within a memory budget (docs/architecture.md: barrier stages
//! spill). PRs stream in once; what dedup needs of them goes to disk-backed sorters:
//!
//! - exact: (content hash, survivor order) records; a run of equal hashes is a cluster whose
//!   first record survives;
//! - near: one record per LSH band, (band, band hash, survivor order, index); within a run of
//!   equal band hashes every member is compared with the first by its MinHash signature, read
//!   back from a signature file on disk; candidate pairs at or above the threshold are joined
//!   in a union-find that holds only PRs with a near duplicate;
//! - verdicts: one per duplicated PR, sorted by (repo, pr_number), written as a TSV with a
//!   per-repository index so each repository unit reads only its own lines.
//!
//! Survivor order is (merged_at, repo, pr_number), encoded so that byte order is that order.
//! The result does not depend on the budget: a small one only spills more runs.

use corpus_core::drop_reason::DropReason;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::sorter::{ExternalSorter, push_i64_key, push_str_key, read_i64_key, read_str_key};
use corpus_core::error::{IoContext, Result};
use xxhash_rust::xxh3::{xxh3_64, xxh3_128};

use crate::dedup::dedup_text;
use crate::minhash::{MinHasher, similarity};

pub const VERDICTS_FILE: &str = "verdicts.tsv";
pub const INDEX_FILE: &str = "verdicts.index";

/// What dedup does and how much memory its sorters may hold.
#[derive(Debug, Clone)]
pub struct DedupSettings {
    pub exact: bool,
    pub near: bool,
    pub permutations: usize,
    pub bands: usize,
    pub shingle_words: usize,
    pub threshold: f64,
    /// Bytes shared by the sorters (exact ¼, bands ½, verdicts ¼).
    pub memory_bytes: usize,
}

/// Why a PR goes, and which PR it duplicates.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// `duplicate_pr` or `near_duplicate_pr`.
    pub reason: DropReason,
    pub survivor_repo: String,
    pub survivor_pr: i64,
    /// The estimated similarity (1 for exact duplicates).
    pub similarity: f64,
}

/// What a dedup pass did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DedupStats {
    pub prs: u64,
    pub exact_duplicates: u64,
    pub near_duplicates: u64,
    pub spilled_runs: usize,
    /// The most the sorters' buffers held at once, in bytes (an upper bound: their peaks).
    pub peak_buffer_bytes: usize,
}

fn order_key(merged_at: i64, repo: &str, pr: i64) -> Vec<u8> {
    let mut key = Vec::with_capacity(repo.len() + 17);
    push_i64_key(&mut key, merged_at);
    push_str_key(&mut key, repo);
    push_i64_key(&mut key, pr);
    key
}

/// (repo, pr) of an order key.
fn parse_order(key: &[u8]) -> Option<(&str, i64)> {
    let (repo, rest) = read_str_key(key.get(8..)?)?;
    Some((repo, read_i64_key(rest)?))
}

fn corrupt(what: &str) -> corpus_core::Error {
    corpus_core::Error::Internal(format!("dedup: a malformed {what} record"))
}

/// Streams PRs in, then writes the verdicts.
pub struct DedupBuilder {
    settings: DedupSettings,
    hasher: MinHasher,
    dir: PathBuf,
    exact: ExternalSorter,
    bands: ExternalSorter,
    signatures_path: PathBuf,
    signatures: BufWriter<File>,
    count: u64,
}

impl DedupBuilder {
    /// Scratch files go under `dir`, which the caller removes afterwards.
    pub fn new(dir: &Path, settings: DedupSettings) -> Result<Self> {
        std::fs::create_dir_all(dir).at("create", dir)?;
        let signatures_path = dir.join("signatures.bin");
        let file = File::create(&signatures_path).at("create", &signatures_path)?;
        let budget = settings.memory_bytes.max(1024);
        Ok(Self {
            hasher: MinHasher::new(settings.permutations, settings.shingle_words),
            exact: ExternalSorter::new(&dir.join("exact"), budget / 4),
            bands: ExternalSorter::new(&dir.join("bands"), budget / 2),
            signatures: BufWriter::with_capacity(1 << 20, file),
            signatures_path,
            dir: dir.to_path_buf(),
            settings,
            count: 0,
        })
    }

    /// One PR: its problem text (title and body) and diff.
    pub fn add(
        &mut self,
        repo: &str,
        pr_number: i64,
        merged_at: i64,
        problem: &str,
        diff: &str,
    ) -> Result<()> {
        let text = dedup_text(problem, diff);
        let order = order_key(merged_at, repo, pr_number);
        if self.settings.exact {
            let mut record = xxh3_128(text.as_bytes()).to_be_bytes().to_vec();
            record.extend_from_slice(&order);
            self.exact.push(&record)?;
        }
        if self.settings.near {
            let signature = self.hasher.signature(&text);
            let bytes: Vec<u8> = signature.iter().flat_map(|v| v.to_le_bytes()).collect();
            self.signatures
                .write_all(&bytes)
                .at("write", &self.signatures_path)?;
            let rows = (signature.len() / self.settings.bands.max(1)).max(1);
            for (band, slice) in signature.chunks(rows).enumerate() {
                if slice.iter().all(|v| *v == u64::MAX) {
                    continue; // an empty text: no evidence
                }
                let mut record = (band as u16).to_be_bytes().to_vec();
                record.extend_from_slice(
                    &xxh3_64(&bytes[band * rows * 8..][..rows * 8]).to_be_bytes(),
                );
                record.extend_from_slice(&order);
                record.extend_from_slice(&self.count.to_be_bytes());
                self.bands.push(&record)?;
            }
        }
        self.count += 1;
        Ok(())
    }

    /// Decide every cluster and write `verdicts.tsv` and its index into `out_dir` (the index
    /// last, atomically: its presence means the verdicts are complete).
    pub fn finish(mut self, out_dir: &Path) -> Result<DedupStats> {
        self.signatures.flush().at("write", &self.signatures_path)?;
        let mut stats = DedupStats {
            prs: self.count,
            spilled_runs: self.exact.runs() + self.bands.runs(),
            ..Default::default()
        };
        let mut verdicts = ExternalSorter::new(
            &self.dir.join("verdicts"),
            self.settings.memory_bytes.max(1024) / 4,
        );
        let exact_peak = self.exact.peak_bytes();
        let bands_peak = self.bands.peak_bytes();
        exact_verdicts(self.exact, &mut verdicts)?;
        let signatures = Signatures {
            file: File::open(&self.signatures_path).at("open", &self.signatures_path)?,
            path: self.signatures_path.clone(),
            width: self.settings.permutations,
        };
        near_verdicts(
            self.bands,
            &signatures,
            self.settings.threshold,
            &mut verdicts,
        )?;
        stats.spilled_runs += verdicts.runs();
        stats.peak_buffer_bytes = exact_peak + bands_peak + verdicts.peak_bytes();
        (stats.exact_duplicates, stats.near_duplicates) = write_verdicts(verdicts, out_dir)?;
        Ok(stats)
    }
}

fn verdict_record(
    member: (&str, i64),
    kind: u8,
    survivor: (&str, i64),
    similarity: f64,
) -> Vec<u8> {
    let mut record = Vec::new();
    push_str_key(&mut record, member.0);
    push_i64_key(&mut record, member.1);
    record.push(kind);
    push_str_key(&mut record, survivor.0);
    push_i64_key(&mut record, survivor.1);
    record.extend_from_slice(&similarity.to_bits().to_be_bytes());
    record
}

/// Runs of equal content hashes: all but the first are duplicates of the first.
fn exact_verdicts(sorter: ExternalSorter, out: &mut ExternalSorter) -> Result<()> {
    let mut sorted = sorter.finish()?;
    let mut current: Option<Vec<u8>> = None;
    while let Some(record) = sorted.next_record()? {
        let (hash, order) = record
            .split_at_checked(16)
            .ok_or_else(|| corrupt("exact"))?;
        match &current {
            Some(first) if first[..16] == *hash => {
                let member = parse_order(order).ok_or_else(|| corrupt("exact"))?;
                let survivor = parse_order(&first[16..]).ok_or_else(|| corrupt("exact"))?;
                out.push(&verdict_record(member, 0, survivor, 1.0))?;
            }
            _ => current = Some(record),
        }
    }
    Ok(())
}

/// MinHash signatures by PR index, read from disk.
struct Signatures {
    file: File,
    path: PathBuf,
    width: usize,
}

impl Signatures {
    fn get(&self, index: u64) -> Result<Vec<u64>> {
        let mut bytes = vec![0u8; self.width * 8];
        self.file
            .read_exact_at(&mut bytes, index * (self.width as u64) * 8)
            .at("read", &self.path)?;
        Ok(bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
            .collect())
    }
}

/// Union-find over the PRs that have a near duplicate; the root of a set is its member that
/// comes first in survivor order.
#[derive(Default)]
struct Clusters {
    /// PR index → node; the order key is kept once, in `nodes`.
    ids: HashMap<u64, usize>,
    nodes: Vec<(Vec<u8>, u64)>,
    parent: Vec<usize>,
}

impl Clusters {
    fn id(&mut self, order: &[u8], index: u64) -> usize {
        if let Some(&id) = self.ids.get(&index) {
            return id;
        }
        let id = self.nodes.len();
        self.ids.insert(index, id);
        self.nodes.push((order.to_vec(), index));
        self.parent.push(id);
        id
    }

    fn find(&mut self, id: usize) -> usize {
        let mut root = id;
        while self.parent[root] != root {
            root = self.parent[root];
        }
        let mut node = id;
        while self.parent[node] != root {
            let next = self.parent[node];
            self.parent[node] = root;
            node = next;
        }
        root
    }

    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            let (keep, join) = if self.nodes[a].0 < self.nodes[b].0 {
                (a, b)
            } else {
                (b, a)
            };
            self.parent[join] = keep;
        }
    }
}

/// Runs of equal band hashes: each member is compared with the run's first.
fn near_verdicts(
    sorter: ExternalSorter,
    signatures: &Signatures,
    threshold: f64,
    out: &mut ExternalSorter,
) -> Result<()> {
    let mut sorted = sorter.finish()?;
    let mut clusters = Clusters::default();
    // The first record of the current run and its signature.
    let mut first: Option<(Vec<u8>, Vec<u64>)> = None;
    while let Some(record) = sorted.next_record()? {
        if record.len() < 10 + 17 + 8 {
            return Err(corrupt("band"));
        }
        let (order, index) = record[10..].split_at(record.len() - 18);
        let index = u64::from_be_bytes(index.try_into().map_err(|_| corrupt("band"))?);
        match &first {
            Some((head, head_signature)) if head[..10] == record[..10] => {
                let signature = signatures.get(index)?;
                if similarity(head_signature, &signature) >= threshold {
                    let (head_order, head_index) = head[10..].split_at(head.len() - 18);
                    let head_index =
                        u64::from_be_bytes(head_index.try_into().map_err(|_| corrupt("band"))?);
                    let a = clusters.id(head_order, head_index);
                    let b = clusters.id(order, index);
                    clusters.join(a, b);
                }
            }
            _ => {
                let signature = signatures.get(index)?;
                first = Some((record, signature));
            }
        }
    }
    for id in 0..clusters.nodes.len() {
        let root = clusters.find(id);
        if root == id {
            continue;
        }
        let (member_order, member_index) = &clusters.nodes[id];
        let (root_order, root_index) = &clusters.nodes[root];
        let estimate = similarity(
            &signatures.get(*member_index)?,
            &signatures.get(*root_index)?,
        );
        let member = parse_order(member_order).ok_or_else(|| corrupt("band"))?;
        let survivor = parse_order(root_order).ok_or_else(|| corrupt("band"))?;
        out.push(&verdict_record(member, 1, survivor, estimate))?;
    }
    Ok(())
}

/// The first verdict of each (repo, pr) (exact before near), as TSV lines in (repo, pr) order,
/// and the byte range of each repository's lines. Returns (exact, near) verdicts written.
fn write_verdicts(sorter: ExternalSorter, out_dir: &Path) -> Result<(u64, u64)> {
    std::fs::create_dir_all(out_dir).at("create", out_dir)?;
    let tmp = out_dir.join(format!(".{VERDICTS_FILE}.{}.tmp", std::process::id()));
    let file = File::create(&tmp).at("create", &tmp)?;
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    let mut index: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut offset = 0u64;
    let mut last: Option<(String, i64)> = None;
    let mut written = (0u64, 0u64);
    let mut sorted = sorter.finish()?;
    while let Some(record) = sorted.next_record()? {
        let (repo, rest) = read_str_key(&record).ok_or_else(|| corrupt("verdict"))?;
        let pr = read_i64_key(rest).ok_or_else(|| corrupt("verdict"))?;
        if last.as_ref().is_some_and(|(r, p)| r == repo && *p == pr) {
            continue;
        }
        let kind = *rest.get(8).ok_or_else(|| corrupt("verdict"))?;
        let (survivor_repo, rest) = read_str_key(&rest[9..]).ok_or_else(|| corrupt("verdict"))?;
        let survivor_pr = read_i64_key(rest).ok_or_else(|| corrupt("verdict"))?;
        let bits: [u8; 8] = rest
            .get(8..16)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| corrupt("verdict"))?;
        let similarity = f64::from_bits(u64::from_be_bytes(bits));
        let reason = if kind == 0 {
            written.0 += 1;
            DropReason::DuplicatePr
        } else {
            written.1 += 1;
            DropReason::NearDuplicatePr
        };
        let line =
            format!("{repo}\t{pr}\t{reason}\t{survivor_repo}\t{survivor_pr}\t{similarity}\n");
        writer.write_all(line.as_bytes()).at("write", &tmp)?;
        let range = index.entry(repo.to_string()).or_insert((offset, offset));
        offset += line.len() as u64;
        range.1 = offset;
        last = Some((repo.to_string(), pr));
    }
    let file = writer
        .into_inner()
        .map_err(|e| corpus_core::Error::io_path("write", &tmp, e.into_error()))?;
    file.sync_all().at("sync", &tmp)?;
    std::fs::rename(&tmp, out_dir.join(VERDICTS_FILE)).at("rename", &tmp)?;
    let text: String = index
        .iter()
        .map(|(repo, (start, end))| format!("{repo}\t{start}\t{end}\n"))
        .collect();
    corpus_core::manifest::write_atomically(&out_dir.join(INDEX_FILE), text.as_bytes())?;
    Ok(written)
}

/// The written verdicts of a run, read one repository at a time.
pub struct Verdicts {
    path: PathBuf,
    index: BTreeMap<String, (u64, u64)>,
}

impl Verdicts {
    /// None when the index is missing (the verdicts are not complete).
    pub fn open(dir: &Path) -> Result<Option<Self>> {
        let index_path = dir.join(INDEX_FILE);
        let text = match std::fs::read_to_string(&index_path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(corpus_core::Error::io_path("read", &index_path, e)),
        };
        let mut index = BTreeMap::new();
        for line in text.lines() {
            let mut fields = line.split('\t');
            let (Some(repo), Some(start), Some(end)) =
                (fields.next(), fields.next(), fields.next())
            else {
                return Err(corrupt("index"));
            };
            let range = (
                start.parse().map_err(|_| corrupt("index"))?,
                end.parse().map_err(|_| corrupt("index"))?,
            );
            index.insert(repo.to_string(), range);
        }
        Ok(Some(Self {
            path: dir.join(VERDICTS_FILE),
            index,
        }))
    }

    /// The verdicts of one repository's PRs.
    pub fn of_repo(&self, repo: &str) -> Result<HashMap<i64, Verdict>> {
        let mut out = HashMap::new();
        let Some(&(start, end)) = self.index.get(repo) else {
            return Ok(out);
        };
        let file = File::open(&self.path).at("open", &self.path)?;
        let mut bytes = vec![0u8; (end - start) as usize];
        file.read_exact_at(&mut bytes, start)
            .at("read", &self.path)?;
        let text = String::from_utf8(bytes).map_err(|_| corrupt("verdict"))?;
        for line in text.lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            let [_, pr, reason, survivor_repo, survivor_pr, similarity] = fields[..] else {
                return Err(corrupt("verdict"));
            };
            let verdict = Verdict {
                reason: if reason == DropReason::DuplicatePr.code() {
                    DropReason::DuplicatePr
                } else {
                    DropReason::NearDuplicatePr
                },
                survivor_repo: survivor_repo.to_string(),
                survivor_pr: survivor_pr.parse().map_err(|_| corrupt("verdict"))?,
                similarity: similarity.parse().map_err(|_| corrupt("verdict"))?,
            };
            out.insert(pr.parse().map_err(|_| corrupt("verdict"))?, verdict);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::content_key;
    use crate::dedup::tests::{PrKey, duplicates};
    use crate::minhash::tests::near_duplicate_clusters;

    struct Pr {
        repo: String,
        number: i64,
        merged_at: i64,
        problem: String,
        diff: String,
    }

    /// PRs of a few repositories, with exact fork copies and edited near copies.
    fn prs() -> Vec<Pr> {
        let mut out = Vec::new();
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 33
        };
        for n in 0..400i64 {
            let words: String = (0..120).map(|_| format!("w{} ", next() % 5000)).collect();
            let repo = format!("org{}/repo", n % 5);
            out.push(Pr {
                repo: repo.clone(),
                number: n,
                merged_at: (next() % 50) as i64,
                problem: format!("Fix {n}"),
                diff: format!("diff --git a/f b/f\n+{words}\n"),
            });
            match n % 7 {
                0 => out.push(Pr {
                    repo: format!("fork{}/repo", n % 3),
                    number: 1000 + n,
                    merged_at: (next() % 50) as i64,
                    problem: format!("fix {n}"),
                    diff: format!("diff --git a/f b/f\n+{words}\n"),
                }),
                3 => out.push(Pr {
                    repo: format!("fork{}/repo", n % 3),
                    number: 2000 + n,
                    merged_at: (next() % 50) as i64,
                    problem: format!("Fix {n}"),
                    diff: format!("diff --git a/f b/f\n+{words} one more\n"),
                }),
                _ => {}
            }
        }
        out
    }

    /// (repo, pr) → (reason, survivor).
    type Decisions = BTreeMap<(String, i64), (DropReason, (String, i64))>;

    fn settings(memory_bytes: usize) -> DedupSettings {
        DedupSettings {
            exact: true,
            near: true,
            permutations: 128,
            bands: 16,
            shingle_words: 5,
            threshold: 0.8,
            memory_bytes,
        }
    }

    fn run(prs: &[Pr], memory_bytes: usize) -> (BTreeMap<(String, i64), Verdict>, DedupStats) {
        let dir = tempfile::tempdir().expect("test");
        let mut builder =
            DedupBuilder::new(&dir.path().join("scratch"), settings(memory_bytes)).expect("test");
        for pr in prs {
            builder
                .add(&pr.repo, pr.number, pr.merged_at, &pr.problem, &pr.diff)
                .expect("test");
        }
        let stats = builder.finish(&dir.path().join("out")).expect("test");
        let verdicts = Verdicts::open(&dir.path().join("out"))
            .expect("test")
            .expect("test");
        let mut all = BTreeMap::new();
        let repos: Vec<String> = prs.iter().map(|p| p.repo.clone()).collect();
        for repo in repos {
            for (pr, verdict) in verdicts.of_repo(&repo).expect("test") {
                all.insert((repo.clone(), pr), verdict);
            }
        }
        (all, stats)
    }

    #[test]
    fn a_small_budget_spills_and_decides_the_same() {
        let prs = prs();
        let (in_memory, stats) = run(&prs, 1 << 30);
        let (spilled, spilled_stats) = run(&prs, 4096);
        assert_eq!(stats.spilled_runs, 0);
        assert!(spilled_stats.spilled_runs > 20, "{spilled_stats:?}");
        assert!(spilled_stats.peak_buffer_bytes < stats.peak_buffer_bytes / 10);
        assert_eq!(in_memory, spilled);
        assert!(
            stats.exact_duplicates >= 50 && stats.near_duplicates >= 50,
            "{stats:?}"
        );
    }

    #[test]
    fn matches_the_in_memory_reference() {
        let prs = prs();
        let (verdicts, _) = run(&prs, 1 << 30);
        let keys: Vec<PrKey> = prs
            .iter()
            .map(|p| PrKey {
                repo: p.repo.clone(),
                pr_number: p.number,
                merged_at: p.merged_at,
                content: content_key(&p.problem, &p.diff),
            })
            .collect();
        let mut expected = Decisions::new();
        for (member, survivor) in duplicates(&keys) {
            expected.insert(member, (DropReason::DuplicatePr, survivor));
        }
        let hasher = MinHasher::new(128, 5);
        let mut order: Vec<usize> = (0..prs.len()).collect();
        order.sort_by_key(|&i| (prs[i].merged_at, prs[i].repo.clone(), prs[i].number));
        let signatures: Vec<Vec<u64>> = order
            .iter()
            .map(|&i| hasher.signature(&dedup_text(&prs[i].problem, &prs[i].diff)))
            .collect();
        for (member, first) in near_duplicate_clusters(&signatures, 16, 0.8) {
            let (m, f) = (&prs[order[member]], &prs[order[first]]);
            expected
                .entry((m.repo.clone(), m.number))
                .or_insert((DropReason::NearDuplicatePr, (f.repo.clone(), f.number)));
        }
        let got: Decisions = verdicts
            .into_iter()
            .map(|(k, v)| (k, (v.reason, (v.survivor_repo, v.survivor_pr))))
            .collect();
        assert_eq!(got, expected);
    }
}
