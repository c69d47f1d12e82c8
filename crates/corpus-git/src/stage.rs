//! Stage `extract`: git repositories to `repos`, `patches`, `commit_packs`, `blobs`. One unit
//! per repository, keyed by its `owner/name`: the recipe's local repositories and the
//! crawl's mirrors. A PR the crawl knows (table `pulls`) takes its boundaries from there.

use corpus_core::drop_reason::DropReason;
use corpus_core::identity::Origin;
use corpus_core::schema::names;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::extract::{ExtractChunk, KnownPull, KnownPulls, extract_repo};
use crate::open::{RepoSpec, resolve_name};
use corpus_core::benchmark::BenchmarkRepos;
use corpus_core::recipe::Recipe;
use corpus_core::rows::PullRow;
use corpus_core::rows::{BlobRow, CommitPackRow, DropRow, PatchRow, RepoRow};
use corpus_core::table::KeyedTable;

use corpus_stage::error::{Result, StageError};
use corpus_stage::stage::{InputsBuilder, Stage, StageContext, StageInputs, StageSpec, UnitOutput};

/// The stage; it lists the recipe's repositories once per run.
#[derive(Default)]
pub struct ExtractStage {
    repos: corpus_stage::stage::PreparedOnce<BTreeMap<String, RepoSpec>>,
}

impl ExtractStage {
    /// The repositories to extract: the recipe's, and the crawl's mirrors.
    fn repos(&self, ctx: &StageContext) -> Result<&BTreeMap<String, RepoSpec>> {
        self.repos.get_or_prepare(NAME, || {
            let mut listed = list_repos(ctx.recipe)?;
            for (name, path) in crawled_mirrors(ctx)? {
                // A repository both local and crawled is extracted once, from the local copy.
                listed.entry(name.clone()).or_insert(RepoSpec {
                    path,
                    name: Some(name),
                    branch: None,
                });
            }
            Ok(listed)
        })
    }
}

/// The mirrors the crawl cloned: its `repos` rows with a path and no skip.
fn crawled_mirrors(ctx: &StageContext) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    let dir = ctx.table(names::REPOS)?;
    if corpus_core::manifest::Manifest::read(&dir)?.is_none() {
        return Ok(out);
    }
    corpus_core::table::for_each_table_batch(&dir, 4096, |batch| {
        for row in RepoRow::from_batch(&batch)? {
            if row.origin == Origin::Crawl.code()
                && row.skipped_reason.is_none()
                && let Some(path) = row.path
            {
                out.push((row.repo, PathBuf::from(path)));
            }
        }
        Ok(())
    })?;
    Ok(out)
}

/// The crawl's PRs of one repository.
fn known_pulls(ctx: &StageContext, repo: &str) -> Result<KnownPulls> {
    let mut known = Vec::new();
    if let Some(table) = KeyedTable::open_if_present(&ctx.table(names::PULLS)?, "repo")? {
        table.for_each_batch_of(repo, 1024, |batch| {
            for pull in PullRow::from_batch(&batch)? {
                known.push(KnownPull {
                    number: pull.pr_number,
                    base_sha: pull.base_sha,
                    head_sha: pull.head_sha,
                    merge_sha: pull.merge_sha,
                });
            }
            Ok(())
        })?;
    }
    Ok(KnownPulls::new(known))
}

const NAME: &str = "extract";

/// Prefix of the key of a repository whose name cannot be told (it still gets a unit, which
/// records why it was left out).
const UNNAMED: &str = "unnamed:";

/// Every repository the recipe lists, by unit key.
pub fn list_repos(recipe: &Recipe) -> Result<BTreeMap<String, RepoSpec>> {
    let mut specs: Vec<RepoSpec> = Vec::new();
    let mut dirs: Vec<PathBuf> = recipe
        .inputs
        .repo_dirs
        .iter()
        .map(|d| recipe.resolve(d))
        .collect();
    if let Some(root) = recipe.demo_root() {
        // The command line generated it; a run pointed at a folder without it says so.
        dirs.push(root.join("repos"));
    }
    for dir in dirs {
        specs.extend(children(&dir)?.into_iter().map(|path| RepoSpec {
            path,
            name: None,
            branch: None,
        }));
    }
    specs.extend(recipe.inputs.repos.iter().map(|entry| RepoSpec {
        path: recipe.resolve(&entry.path),
        name: entry.name.clone(),
        branch: entry.branch.clone(),
    }));
    let mut out: BTreeMap<String, RepoSpec> = BTreeMap::new();
    for spec in specs {
        let key = match resolve_name(&spec) {
            Ok(name) => name,
            Err(_) => format!("{UNNAMED}{}", spec.path.display()),
        };
        if let Some(other) = out.get(&key) {
            return Err(StageError::Usage(format!(
                "two repositories are both named {key}: {} and {}; give one of them another \
                 name in the recipe ({{ name = \"owner/name\", path = ... }})",
                other.path.display(),
                spec.path.display()
            )));
        }
        out.insert(key, spec);
    }
    Ok(out)
}

fn children(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| StageError::Usage(format!("repository folder {}: {e}", dir.display())))?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if path.is_dir() && !hidden {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// The tip of the branch extraction will walk, for the fingerprint ("" when unreadable:
/// the unit then reports why).
fn branch_tip(spec: &RepoSpec, name: &str) -> String {
    crate::open::open(spec, name)
        .map(|o| format!("{}@{}", o.branch, o.head))
        .unwrap_or_default()
}

const SPEC: StageSpec = StageSpec {
    name: NAME,
    outputs: &[
        names::REPOS,
        names::PATCHES,
        names::COMMIT_PACKS,
        names::BLOBS,
    ],
    reads: &[names::REPOS, names::PULLS],
};

impl Stage for ExtractStage {
    fn spec(&self) -> &'static StageSpec {
        &SPEC
    }

    fn inputs(&self, ctx: &StageContext) -> Result<StageInputs> {
        let recipe = ctx.recipe;
        let mut builder = InputsBuilder::new(Recipe::section_hash(&(
            &recipe.extract,
            &recipe.decontam,
            &recipe.tables,
        )));
        builder.hidden(
            "registry",
            corpus_core::benchmark::registry_digest().as_bytes(),
        );
        builder.table(ctx, NAME, names::PULLS, false)?;
        // Scratch mirrors (a mirror budget) change only with the crawl that fetches them,
        // which reruns this stage with it: their tips are not read (they may be gone).
        let scratch = recipe.mirrors_are_scratch();
        let local = list_repos(recipe)?;
        for (key, spec) in self.repos(ctx)? {
            if scratch && !local.contains_key(key) {
                continue;
            }
            builder
                .hidden("path", spec.path.to_string_lossy().as_bytes())
                .input(&format!("repo:{key}"), &branch_tip(spec, key));
        }
        Ok(builder.finish())
    }

    fn units(&self, ctx: &StageContext) -> Result<Vec<String>> {
        Ok(self.repos(ctx)?.keys().cloned().collect())
    }

    fn run_unit(&self, ctx: &StageContext, key: &str, out: &mut UnitOutput) -> Result<()> {
        let repos = self.repos(ctx)?;
        let spec = repos
            .get(key)
            .ok_or_else(|| StageError::stage(NAME, format!("no repository {key} in the recipe")))?;
        if let Some(path) = key.strip_prefix(UNNAMED) {
            let err = resolve_name(spec)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            tracing::error!("{err}");
            let drop = DropRow::new(NAME, DropReason::NoRepositoryName)
                .path(path)
                .detail(err);
            out.write_drops(&[drop])?;
            return Ok(());
        }
        let benchmark = BenchmarkRepos::from_options(&ctx.recipe.decontam);
        let mut emit = |chunk: ExtractChunk| -> crate::Result<()> {
            write_chunk(out, chunk).map_err(|e| crate::GitError::Other {
                repo: key.to_string(),
                message: e.to_string(),
            })
        };
        let known = known_pulls(ctx, key)?;
        let extracted = extract_repo(
            spec,
            key,
            &ctx.recipe.extract,
            &benchmark,
            &known,
            &mut emit,
        );
        let row = match extracted {
            Ok(extracted) => {
                for (counter, n) in &extracted.found.by_route {
                    out.count(counter, *n);
                }
                out.count("prs_repeated_number", extracted.found.repeated);
                extracted.row
            }
            Err(crate::GitError::Core(e)) => return Err(e.into()),
            Err(e) => {
                // Bad input is data: say why once, record it, and let the other repos go on.
                tracing::error!("{e}");
                let drop = DropRow::new(NAME, e.reason())
                    .repo(key)
                    .detail(e.to_string());
                out.write_drops(&[drop])?;
                RepoRow {
                    repo: key.to_string(),
                    path: Some(spec.path.display().to_string()),
                    origin: Origin::Local.code().into(),
                    skipped_reason: Some(e.reason().to_string()),
                    ..Default::default()
                }
            }
        };
        out.write(names::REPOS, &RepoRow::batch(&[row])?)?;
        Ok(())
    }
}

fn write_chunk(out: &mut UnitOutput, chunk: ExtractChunk) -> Result<()> {
    out.write(names::PATCHES, &PatchRow::batch(&chunk.patches)?)?;
    out.write(names::COMMIT_PACKS, &CommitPackRow::batch(&chunk.packs)?)?;
    out.write(names::BLOBS, &BlobRow::batch(&chunk.blobs)?)?;
    out.write_drops(&chunk.drops)?;
    Ok(())
}
