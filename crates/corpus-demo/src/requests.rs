//! psf/requests (named like a SWE-bench repository) and a renamed copy sharing its root.

use std::path::Path;

use crate::builder::RepoBuilder;
use crate::{ALICE, BOB, DemoError, MAINTAINER};

const API_V1: &str = "\"\"\"A toy HTTP client API.\"\"\"\n\n\ndef get(url, params=None):\n    return request(\"GET\", url, params=params)\n\n\ndef request(method, url, **kwargs):\n    return {\"method\": method, \"url\": url, **kwargs}\n";
const API_V2: &str = "\"\"\"A toy HTTP client API.\"\"\"\n\n\ndef get(url, params=None, timeout=None):\n    return request(\"GET\", url, params=params, timeout=timeout)\n\n\ndef request(method, url, **kwargs):\n    return {\"method\": method.upper(), \"url\": url, **kwargs}\n";
const TEST_API_V1: &str = "from requests.api import get\n\n\ndef test_get():\n    assert get(\"http://x\")[\"method\"] == \"GET\"\n";
const TEST_API_V2: &str = "from requests.api import get\n\n\ndef test_get():\n    assert get(\"http://x\")[\"method\"] == \"GET\"\n\n\ndef test_timeout_is_passed():\n    assert get(\"http://x\", timeout=3)[\"timeout\"] == 3\n";

pub fn build(path: &Path) -> Result<RepoBuilder, DemoError> {
    let mut b = RepoBuilder::create(path, false, crate::EPOCH + 86_400 * 30)?;
    b.commit(
        "main",
        MAINTAINER,
        "Initial import\n",
        &[
            (
                "README.rst",
                Some(b"Requests (demo copy)\n====================\n"),
            ),
            (
                "requests/__init__.py",
                Some(b"from .api import get, request\n"),
            ),
            ("requests/api.py", Some(API_V1.as_bytes())),
            ("tests/test_api.py", Some(TEST_API_V1.as_bytes())),
        ],
    )?;
    b.branch("timeout", "main")?;
    b.commit(
        "timeout",
        ALICE,
        "Pass timeout through get\n",
        &[
            ("requests/api.py", Some(API_V2.as_bytes())),
            ("tests/test_api.py", Some(TEST_API_V2.as_bytes())),
        ],
    )?;
    b.merge_pr(1, "timeout", "alice", "get() ignores timeout", MAINTAINER)?;
    b.delete_branch("timeout")?;
    Ok(b)
}

/// A renamed copy: same root commit, a new name, one commit of its own.
pub fn build_renamed(path: &Path, original: &RepoBuilder) -> Result<(), DemoError> {
    let mut b = RepoBuilder::create_copy(path, original, false)?;
    b.branch("docs", "main")?;
    b.commit(
        "docs",
        BOB,
        "Explain the fork in the README\n",
        &[(
            "README.rst",
            Some(b"Reqs (a renamed copy of requests)\n=================================\n"),
        )],
    )?;
    b.squash_pr(2, "docs", "Explain the fork", "", BOB)?;
    b.delete_branch("docs")?;
    Ok(())
}
