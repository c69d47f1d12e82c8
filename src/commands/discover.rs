//! `discover`: a repository list for `[crawl] repos_file`, from the search API or from
//! GH Archive and CSV files.

use anyhow::Result;
use corpus_core::recipe::Recipe;
use corpus_stage::run_dir::RunDir;

use crate::cli::DiscoverArgs;

pub fn discover(args: &DiscoverArgs) -> Result<()> {
    let text = if args.gharchive.is_empty() && args.csv.is_empty() {
        let recipe = match &args.recipe {
            Some(path) => Recipe::load(path)?,
            None => {
                return Err(corpus_crawl::CrawlError::Usage(
                    "discover: give --recipe (with a [crawl.search]), --gharchive or --csv".into(),
                )
                .into());
            }
        }
        .absolutized()?;
        let run = RunDir::new(
            &args
                .run
                .clone()
                .unwrap_or_else(|| RunDir::default_for(&recipe).root),
        );
        let ctx = corpus_stage::stage::StageContext::new(&recipe, &run);
        let (found, stats) = corpus_runner::stages::discover_search(&ctx)?;
        eprintln!(
            "discover: {} repositories from {} slices ({} search pages{})",
            found.len(),
            stats.slices,
            stats.pages,
            if stats.unreachable.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} slices held more than the search returns",
                    stats.unreachable.len()
                )
            }
        );
        found
            .iter()
            .map(|d| format!("{}  # {} stars\n", d.name, d.stars))
            .collect::<String>()
    } else {
        let (mut counts, stats) = corpus_crawl::repo_lists::count_gharchive(&args.gharchive)?;
        for path in &args.csv {
            for (repo, count) in corpus_crawl::repo_lists::read_csv_list(path)? {
                let entry = counts.entry(repo).or_default();
                entry.closed += count.closed;
                entry.merged += count.merged;
            }
        }
        eprintln!(
            "discover: {} repositories from {} archive files ({} pull request events, {} \
             closed without a merge flag, {} bad lines) and {} CSV files",
            counts.len(),
            stats.files,
            stats.events,
            stats.merge_unknown,
            stats.bad_lines,
            args.csv.len()
        );
        corpus_crawl::repo_lists::render_list(&counts, args.min_prs)
    };
    corpus_core::manifest::write_atomically(&args.out, text.as_bytes())?;
    eprintln!("discover: wrote {}", args.out.display());
    Ok(())
}
