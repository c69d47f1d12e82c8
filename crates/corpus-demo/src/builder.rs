//! Writes commits into a repository from file edits, without a working tree: each commit's
//! tree is its parent's tree with some paths set or removed. Authors and clocks are fixed, so
//! the same script gives the same commit ids on every machine.

use std::collections::BTreeMap;
use std::path::Path;

use git2::{Oid, Repository, Signature, Time, build::TreeUpdateBuilder};

use crate::DemoError;

/// One file edit: set `path` to `content`, or remove it (`None`).
pub type Edit<'a> = (&'a str, Option<&'a [u8]>);

/// A person committing in the demo history.
#[derive(Clone, Copy)]
pub struct Person {
    pub name: &'static str,
    pub email: &'static str,
}

impl Person {
    pub const fn new(name: &'static str, email: &'static str) -> Self {
        Self { name, email }
    }
}

pub struct RepoBuilder {
    pub repo: Repository,
    /// Seconds since the epoch of the next commit; every commit advances it.
    clock: i64,
    branches: BTreeMap<String, Oid>,
}

fn git(e: git2::Error) -> DemoError {
    DemoError::Git(e.message().to_string())
}

impl RepoBuilder {
    /// A new repository at `path` (bare unless `working_tree`), starting its clock at `start`.
    pub fn create(path: &Path, working_tree: bool, start: i64) -> Result<Self, DemoError> {
        if path.exists() {
            std::fs::remove_dir_all(path)
                .map_err(|e| DemoError::Io(path.display().to_string(), e))?;
        }
        let repo = if working_tree {
            Repository::init(path)
        } else {
            Repository::init_bare(path)
        }
        .map_err(git)?;
        repo.set_head("refs/heads/main").map_err(git)?;
        Ok(Self {
            repo,
            clock: start,
            branches: BTreeMap::new(),
        })
    }

    /// Copy every object and branch of `other` (a fork or renamed copy shares its history).
    pub fn create_copy(
        path: &Path,
        other: &RepoBuilder,
        working_tree: bool,
    ) -> Result<Self, DemoError> {
        let mut copy = Self::create(path, working_tree, other.clock)?;
        {
            let odb = other.repo.odb().map_err(git)?;
            let target = copy.repo.odb().map_err(git)?;
            odb.foreach(|oid| {
                if let Ok(object) = odb.read(*oid) {
                    let _ = target.write(object.kind(), object.data());
                }
                true
            })
            .map_err(git)?;
        }
        for (name, oid) in &other.branches {
            copy.set_branch(name, *oid)?;
        }
        Ok(copy)
    }

    pub fn tip(&self, branch: &str) -> Result<Oid, DemoError> {
        self.branches
            .get(branch)
            .copied()
            .ok_or_else(|| DemoError::Script(format!("no branch {branch}")))
    }

    fn set_branch(&mut self, branch: &str, oid: Oid) -> Result<(), DemoError> {
        self.repo
            .reference(&format!("refs/heads/{branch}"), oid, true, "demo")
            .map_err(git)?;
        self.branches.insert(branch.to_string(), oid);
        Ok(())
    }

    fn signature(&mut self, person: Person) -> Result<Signature<'static>, DemoError> {
        self.clock += 3_600;
        Signature::new(person.name, person.email, &Time::new(self.clock, 0)).map_err(git)
    }

    fn write_commit(
        &mut self,
        author: Person,
        message: &str,
        tree: Oid,
        parents: &[Oid],
    ) -> Result<Oid, DemoError> {
        let sig = self.signature(author)?;
        let tree = self.repo.find_tree(tree).map_err(git)?;
        let parents: Vec<git2::Commit> = parents
            .iter()
            .map(|p| self.repo.find_commit(*p))
            .collect::<Result<_, _>>()
            .map_err(git)?;
        let parent_refs: Vec<&git2::Commit> = parents.iter().collect();
        self.repo
            .commit(None, &sig, &sig, message, &tree, &parent_refs)
            .map_err(git)
    }

    /// Commit `edits` on top of `branch` (creating the branch from nothing for the root).
    pub fn commit(
        &mut self,
        branch: &str,
        author: Person,
        message: &str,
        edits: &[Edit],
    ) -> Result<Oid, DemoError> {
        let parent = self.branches.get(branch).copied();
        let base_tree = match parent {
            Some(p) => self.repo.find_commit(p).map_err(git)?.tree_id(),
            None => self
                .repo
                .treebuilder(None)
                .map_err(git)?
                .write()
                .map_err(git)?,
        };
        let mut update = TreeUpdateBuilder::new();
        for (path, content) in edits {
            match content {
                Some(bytes) => {
                    let blob = self.repo.blob(bytes).map_err(git)?;
                    update.upsert(*path, blob, git2::FileMode::Blob);
                }
                None => {
                    update.remove(*path);
                }
            }
        }
        let tree = {
            let base = self.repo.find_tree(base_tree).map_err(git)?;
            update.create_updated(&self.repo, &base).map_err(git)?
        };
        let parents: Vec<Oid> = parent.into_iter().collect();
        let oid = self.write_commit(author, message, tree, &parents)?;
        self.set_branch(branch, oid)?;
        Ok(oid)
    }

    /// Start `branch` at the tip of `from`.
    pub fn branch(&mut self, branch: &str, from: &str) -> Result<(), DemoError> {
        let tip = self.tip(from)?;
        self.set_branch(branch, tip)
    }

    /// The tree of merging `theirs` into `ours` (the script never writes conflicts).
    fn merged_tree(&self, ours: Oid, theirs: Oid) -> Result<Oid, DemoError> {
        let a = self.repo.find_commit(ours).map_err(git)?;
        let b = self.repo.find_commit(theirs).map_err(git)?;
        let mut index = self.repo.merge_commits(&a, &b, None).map_err(git)?;
        if index.has_conflicts() {
            return Err(DemoError::Script(format!(
                "merge of {theirs} into {ours} conflicts"
            )));
        }
        index.write_tree_to(&self.repo).map_err(git)
    }

    /// A merge commit on `into` with parents (tip of `into`, tip of `from`).
    pub fn merge(
        &mut self,
        into: &str,
        from: &str,
        author: Person,
        message: &str,
    ) -> Result<Oid, DemoError> {
        let ours = self.tip(into)?;
        let theirs = self.tip(from)?;
        let tree = self.merged_tree(ours, theirs)?;
        let oid = self.write_commit(author, message, tree, &[ours, theirs])?;
        self.set_branch(into, oid)?;
        Ok(oid)
    }

    /// GitHub's "Merge pull request #N from user/branch" merge of `branch` into main.
    pub fn merge_pr(
        &mut self,
        number: u32,
        branch: &str,
        user: &str,
        title: &str,
        merger: Person,
    ) -> Result<Oid, DemoError> {
        let message = format!("Merge pull request #{number} from {user}/{branch}\n\n{title}\n");
        self.merge("main", branch, merger, &message)
    }

    /// GitHub's squash merge: one commit on main with the branch's changes, "Title (#N)".
    pub fn squash_pr(
        &mut self,
        number: u32,
        branch: &str,
        title: &str,
        body: &str,
        author: Person,
    ) -> Result<Oid, DemoError> {
        let ours = self.tip("main")?;
        let theirs = self.tip(branch)?;
        let tree = self.merged_tree(ours, theirs)?;
        let message = format!("{title} (#{number})\n\n{body}\n");
        let oid = self.write_commit(author, &message, tree, &[ours])?;
        self.set_branch("main", oid)?;
        Ok(oid)
    }

    /// Delete a merged branch, as GitHub does after a merge.
    pub fn delete_branch(&mut self, branch: &str) -> Result<(), DemoError> {
        if let Ok(mut r) = self.repo.find_reference(&format!("refs/heads/{branch}")) {
            r.delete().map_err(git)?;
        }
        self.branches.remove(branch);
        Ok(())
    }

    pub fn set_origin(&self, url: &str) -> Result<(), DemoError> {
        self.repo.remote("origin", url).map_err(git)?;
        Ok(())
    }

    /// For a working clone: check out main so the folder looks like a developer's clone.
    pub fn checkout_main(&self) -> Result<(), DemoError> {
        if self.repo.is_bare() {
            return Ok(());
        }
        self.repo.set_head("refs/heads/main").map_err(git)?;
        self.repo
            .checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
            .map_err(git)
    }
}
