//! acme/widgets: the main demo repository, a small Python package with a realistic history.

use std::path::Path;

use crate::builder::RepoBuilder;
use crate::{ALICE, BOB, CAROL, DEPENDABOT, DemoError, EPOCH, MAINTAINER};

const README: &str = "# widgets\n\nSmall helpers for sizing and laying out widgets.\n\n```python\nfrom widgets import parse_size\nparse_size(\"10px\")\n```\n";

const MIT_LICENSE: &str = "MIT License\n\nCopyright (c) 2024 Acme Widgets contributors\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\nof this software and associated documentation files (the \"Software\"), to deal\nin the Software without restriction, subject to the following conditions:\n\nThe above copyright notice and this permission notice shall be included in all\ncopies or substantial portions of the Software.\n";

const SETUP: &str = "from setuptools import setup, find_packages\n\nsetup(\n    name=\"widgets\",\n    version=\"0.1.0\",\n    packages=find_packages(exclude=[\"tests\"]),\n)\n";

const INIT: &str = "\"\"\"Widgets: sizing and layout helpers.\"\"\"\n\nfrom .core import Widget, parse_size\nfrom .util import clamp_ratio\n\n__all__ = [\"Widget\", \"parse_size\", \"clamp_ratio\"]\n";

const INIT_TEXT: &str = "\"\"\"Widgets: sizing and layout helpers.\"\"\"\n\nfrom .core import Widget, parse_size\nfrom .text import shorten\nfrom .util import clamp_ratio\n\n__all__ = [\"Widget\", \"parse_size\", \"clamp_ratio\", \"shorten\"]\n";

const CORE_V1: &str = r#""""Core widget model."""

UNITS = {"px": 1, "em": 16, "pt": 4 / 3}


def parse_size(text):
    """Parse a size such as "10px" or "2em" into pixels."""
    text = text.strip()
    for unit, factor in UNITS.items():
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


class Widget:
    def __init__(self, name, width, height):
        self.name = name
        self.width = width
        self.height = height

    def area(self):
        return self.width * self.height

    def resize(self, factor):
        self.width = int(self.width * factor)
        self.height = int(self.height * factor)
        return self
"#;

/// PR #1: units are matched case-insensitively.
const CORE_V2: &str = r#""""Core widget model."""

UNITS = {"px": 1, "em": 16, "pt": 4 / 3}


def parse_size(text):
    """Parse a size such as "10px" or "2EM" into pixels."""
    text = text.strip().lower()
    for unit, factor in UNITS.items():
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


class Widget:
    def __init__(self, name, width, height):
        self.name = name
        self.width = width
        self.height = height

    def area(self):
        return self.width * self.height

    def resize(self, factor):
        self.width = int(self.width * factor)
        self.height = int(self.height * factor)
        return self
"#;

/// PR #3: a readable repr (merged after main advanced).
const CORE_V3: &str = r#""""Core widget model."""

UNITS = {"px": 1, "em": 16, "pt": 4 / 3}


def parse_size(text):
    """Parse a size such as "10px" or "2EM" into pixels."""
    text = text.strip().lower()
    for unit, factor in UNITS.items():
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


class Widget:
    def __init__(self, name, width, height):
        self.name = name
        self.width = width
        self.height = height

    def __repr__(self):
        return f"Widget({self.name!r}, {self.width}x{self.height})"

    def area(self):
        return self.width * self.height

    def resize(self, factor):
        self.width = int(self.width * factor)
        self.height = int(self.height * factor)
        return self
"#;

/// PR #5: resize refuses non-positive factors.
const CORE_V4: &str = r#""""Core widget model."""

UNITS = {"px": 1, "em": 16, "pt": 4 / 3}


def parse_size(text):
    """Parse a size such as "10px" or "2EM" into pixels."""
    text = text.strip().lower()
    for unit, factor in UNITS.items():
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


class Widget:
    def __init__(self, name, width, height):
        self.name = name
        self.width = width
        self.height = height

    def __repr__(self):
        return f"Widget({self.name!r}, {self.width}x{self.height})"

    def area(self):
        return self.width * self.height

    def resize(self, factor):
        if factor <= 0:
            raise ValueError(f"resize factor must be positive, got {factor}")
        self.width = int(self.width * factor)
        self.height = int(self.height * factor)
        return self
"#;

/// PR #10: legacy Latin-1 size tables.
const CORE_V5: &str = r#""""Core widget model."""

UNITS = {"px": 1, "em": 16, "pt": 4 / 3}


def parse_size(text):
    """Parse a size such as "10px" or "2EM" into pixels."""
    text = text.strip().lower()
    for unit, factor in UNITS.items():
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


def load_legacy_sizes(path):
    """Read the legacy size table, which is stored as Latin-1."""
    with open(path, encoding="latin-1") as handle:
        return [parse_size(line) for line in handle if line.strip()]


class Widget:
    def __init__(self, name, width, height):
        self.name = name
        self.width = width
        self.height = height

    def __repr__(self):
        return f"Widget({self.name!r}, {self.width}x{self.height})"

    def area(self):
        return self.width * self.height

    def resize(self, factor):
        if factor <= 0:
            raise ValueError(f"resize factor must be positive, got {factor}")
        self.width = int(self.width * factor)
        self.height = int(self.height * factor)
        return self
"#;

/// PR #12: a docstring that mentions the tokenizer's end-of-text marker (planted).
const CORE_V6: &str = r#""""Core widget model."""

UNITS = {"px": 1, "em": 16, "pt": 4 / 3}


def parse_size(text):
    """Parse a size such as "10px" or "2EM" into pixels."""
    text = text.strip().lower()
    for unit, factor in UNITS.items():
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


def load_legacy_sizes(path):
    """Read the legacy size table, which is stored as Latin-1.

    Lines after a literal <|endoftext|> marker are ignored: old exports appended it.
    """
    sizes = []
    with open(path, encoding="latin-1") as handle:
        for line in handle:
            if line.startswith("<|endoftext|>"):
                break
            if line.strip():
                sizes.append(parse_size(line))
    return sizes


class Widget:
    def __init__(self, name, width, height):
        self.name = name
        self.width = width
        self.height = height

    def __repr__(self):
        return f"Widget({self.name!r}, {self.width}x{self.height})"

    def area(self):
        return self.width * self.height

    def resize(self, factor):
        if factor <= 0:
            raise ValueError(f"resize factor must be positive, got {factor}")
        self.width = int(self.width * factor)
        self.height = int(self.height * factor)
        return self
"#;

/// PR #14: resize rounds instead of truncating (an off-by-one users reported).
const CORE_V7: &str = r#""""Core widget model."""

UNITS = {"px": 1, "em": 16, "pt": 4 / 3}


def parse_size(text):
    """Parse a size such as "10px" or "2EM" into pixels."""
    text = text.strip().lower()
    for unit, factor in UNITS.items():
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


def load_legacy_sizes(path):
    """Read the legacy size table, which is stored as Latin-1.

    Lines after a literal <|endoftext|> marker are ignored: old exports appended it.
    """
    sizes = []
    with open(path, encoding="latin-1") as handle:
        for line in handle:
            if line.startswith("<|endoftext|>"):
                break
            if line.strip():
                sizes.append(parse_size(line))
    return sizes


class Widget:
    def __init__(self, name, width, height):
        self.name = name
        self.width = width
        self.height = height

    def __repr__(self):
        return f"Widget({self.name!r}, {self.width}x{self.height})"

    def area(self):
        return self.width * self.height

    def resize(self, factor):
        if factor <= 0:
            raise ValueError(f"resize factor must be positive, got {factor}")
        self.width = round(self.width * factor)
        self.height = round(self.height * factor)
        return self
"#;

const UTIL_V1: &str =
    "\"\"\"Small numeric helpers.\"\"\"\n\n\ndef clamp_ratio(value):\n    return value\n";

/// PR #2 (squash): clamp_ratio clamps.
const UTIL_V2: &str = "\"\"\"Small numeric helpers.\"\"\"\n\n\ndef clamp(value, low, high):\n    \"\"\"Limit value to the closed range [low, high].\"\"\"\n    if low > high:\n        raise ValueError(\"low must not exceed high\")\n    return max(low, min(high, value))\n\n\ndef clamp_ratio(value):\n    return clamp(value, 0.0, 1.0)\n";

/// PR #4 (squash, lands while PR #3 is open): a doc line.
const UTIL_V3: &str = "\"\"\"Small numeric helpers.\n\nRatios are always clamped to [0, 1]; see README.\n\"\"\"\n\n\ndef clamp(value, low, high):\n    \"\"\"Limit value to the closed range [low, high].\"\"\"\n    if low > high:\n        raise ValueError(\"low must not exceed high\")\n    return max(low, min(high, value))\n\n\ndef clamp_ratio(value):\n    return clamp(value, 0.0, 1.0)\n";

/// PR #8: uses the vendored six for text checks.
const UTIL_V4: &str = "\"\"\"Small numeric helpers.\n\nRatios are always clamped to [0, 1]; see README.\n\"\"\"\n\nfrom vendor import six\n\n\ndef clamp(value, low, high):\n    \"\"\"Limit value to the closed range [low, high].\"\"\"\n    if low > high:\n        raise ValueError(\"low must not exceed high\")\n    return max(low, min(high, value))\n\n\ndef clamp_ratio(value):\n    if isinstance(value, six.string_types):\n        value = float(value)\n    return clamp(value, 0.0, 1.0)\n";

const TEST_CORE_V1: &str = "from widgets.core import Widget, parse_size\n\n\ndef test_parse_px():\n    assert parse_size(\"10px\") == 10\n\n\ndef test_area():\n    assert Widget(\"w\", 2, 3).area() == 6\n";

const TEST_CORE_V2: &str = "from widgets.core import Widget, parse_size\n\n\ndef test_parse_px():\n    assert parse_size(\"10px\") == 10\n\n\ndef test_parse_uppercase_unit():\n    assert parse_size(\"2EM\") == 32\n\n\ndef test_area():\n    assert Widget(\"w\", 2, 3).area() == 6\n";

const TEST_CORE_V3: &str = "from widgets.core import Widget, parse_size\n\n\ndef test_parse_px():\n    assert parse_size(\"10px\") == 10\n\n\ndef test_parse_uppercase_unit():\n    assert parse_size(\"2EM\") == 32\n\n\ndef test_area():\n    assert Widget(\"w\", 2, 3).area() == 6\n\n\ndef test_repr():\n    assert repr(Widget(\"w\", 2, 3)) == \"Widget('w', 2x3)\"\n";

const TEST_CORE_V4: &str = "import pytest\n\nfrom widgets.core import Widget, parse_size\n\n\ndef test_parse_px():\n    assert parse_size(\"10px\") == 10\n\n\ndef test_parse_uppercase_unit():\n    assert parse_size(\"2EM\") == 32\n\n\ndef test_area():\n    assert Widget(\"w\", 2, 3).area() == 6\n\n\ndef test_repr():\n    assert repr(Widget(\"w\", 2, 3)) == \"Widget('w', 2x3)\"\n\n\ndef test_resize_rejects_zero():\n    with pytest.raises(ValueError):\n        Widget(\"w\", 2, 3).resize(0)\n";

const TEST_CORE_V5: &str = "import pytest\n\nfrom widgets.core import Widget, parse_size\n\n\ndef test_parse_px():\n    assert parse_size(\"10px\") == 10\n\n\ndef test_parse_uppercase_unit():\n    assert parse_size(\"2EM\") == 32\n\n\ndef test_area():\n    assert Widget(\"w\", 2, 3).area() == 6\n\n\ndef test_repr():\n    assert repr(Widget(\"w\", 2, 3)) == \"Widget('w', 2x3)\"\n\n\ndef test_resize_rejects_zero():\n    with pytest.raises(ValueError):\n        Widget(\"w\", 2, 3).resize(0)\n\n\ndef test_resize_rounds():\n    assert Widget(\"w\", 3, 3).resize(0.5).width == 2\n";

const TEST_UTIL_V1: &str = "from widgets.util import clamp, clamp_ratio\n\n\ndef test_clamp_ratio():\n    assert clamp_ratio(1.5) == 1.0\n    assert clamp_ratio(-1) == 0.0\n\n\ndef test_clamp_checks_range():\n    import pytest\n\n    with pytest.raises(ValueError):\n        clamp(1, 2, 0)\n";

const LEGACY_PY: &str = "\"\"\"Deprecated text helpers; use widgets.text.\"\"\"\n\n\ndef ellipsize(text, width):\n    return text if len(text) <= width else text[: width - 3] + \"...\"\n";

const TEXT_PY: &str = "\"\"\"Text helpers for widget labels.\"\"\"\n\n\ndef shorten(text, width):\n    \"\"\"Shorten text to at most width characters, ending in an ellipsis.\"\"\"\n    if width < 1:\n        raise ValueError(\"width must be positive\")\n    return text if len(text) <= width else text[: width - 1] + \"\\u2026\"\n";

const SETTINGS_V1: &str = "\"\"\"Runtime settings.\"\"\"\n\nimport os\n\nSTORAGE_BUCKET = os.environ.get(\"WIDGETS_BUCKET\", \"widgets-dev\")\n";

/// PR #11: a planted secret (AWS's documented example key) that curation must catch.
const SETTINGS_V2: &str = "\"\"\"Runtime settings.\"\"\"\n\nimport os\n\nSTORAGE_BUCKET = os.environ.get(\"WIDGETS_BUCKET\", \"widgets-dev\")\nAWS_ACCESS_KEY_ID = os.environ.get(\"AWS_ACCESS_KEY_ID\", \"AKIAIOSFODNN7EXAMPLE\")\nAWS_SECRET_ACCESS_KEY = os.environ.get(\n    \"AWS_SECRET_ACCESS_KEY\", \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"\n)\n";

const REQUIREMENTS_V1: &str = "requests==2.31.0\n";
const REQUIREMENTS_V2: &str = "requests==2.32.3\n";

fn poetry_lock(version: &str) -> String {
    format!(
        "# This file is automatically @generated by Poetry and should not be changed by hand.\n\n[[package]]\nname = \"requests\"\nversion = \"{version}\"\ndescription = \"Python HTTP for Humans.\"\noptional = false\npython-versions = \">=3.8\"\n\n[metadata]\nlock-version = \"2.0\"\ncontent-hash = \"{:064x}\"\n",
        version.len() * 7919
    )
}

const SIX_V1: &str = "\"\"\"Vendored copy of six (trimmed).\"\"\"\n\nimport sys\n\nPY3 = sys.version_info[0] == 3\nstring_types = (str,)\n";
const SIX_V2: &str = "\"\"\"Vendored copy of six (trimmed).\"\"\"\n\nimport sys\n\nPY3 = sys.version_info[0] == 3\nstring_types = (str,)\ntext_type = str\n";

/// A PNG header and a few chunks: binary by any measure (NUL bytes).
fn logo(variant: u8) -> Vec<u8> {
    let mut bytes = vec![
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d,
    ];
    bytes.extend_from_slice(b"IHDR");
    bytes.extend((0..64u8).map(|i| i.wrapping_mul(37).wrapping_add(variant)));
    bytes
}

/// Latin-1 text (not UTF-8): "café", "naïve".
fn legacy_table(extra: bool) -> Vec<u8> {
    let mut bytes = b"# sizes, latin-1\ncaf\xe9 10px\nna\xefve 2em\n".to_vec();
    if extra {
        bytes.extend_from_slice(b"cr\xe8me 3pt\n");
    }
    bytes
}

/// A generated lookup table larger than the demo recipe's file limit (256 KiB).
fn big_tables(version: u32) -> String {
    let mut out = String::from("# Generated by tools/gen_tables.py. Do not edit.\nTABLE = [\n");
    for i in 0..20_000u32 {
        out.push_str(&format!("    ({i}, {}),\n", (i * 7 + version) % 1_000));
    }
    out.push_str("]\n");
    out
}

/// Build acme/widgets at `path`; the builder is returned so the fork can copy it.
pub fn build(path: &Path) -> Result<RepoBuilder, DemoError> {
    let mut b = RepoBuilder::create(path, false, crate::EPOCH)?;
    let lock_v1 = poetry_lock("2.31.0");
    let tables_v1 = big_tables(1);
    let logo_v1 = logo(1);
    let legacy_v1 = legacy_table(false);
    b.commit(
        "main",
        ALICE,
        "Initial commit\n",
        &[
            ("README.md", Some(README.as_bytes())),
            ("LICENSE", Some(MIT_LICENSE.as_bytes())),
            ("setup.py", Some(SETUP.as_bytes())),
            ("requirements.txt", Some(REQUIREMENTS_V1.as_bytes())),
            ("poetry.lock", Some(lock_v1.as_bytes())),
            ("widgets/__init__.py", Some(INIT.as_bytes())),
            ("widgets/core.py", Some(CORE_V1.as_bytes())),
            ("widgets/util.py", Some(UTIL_V1.as_bytes())),
            ("widgets/legacy.py", Some(LEGACY_PY.as_bytes())),
            ("widgets/settings.py", Some(SETTINGS_V1.as_bytes())),
            ("widgets/_tables.py", Some(tables_v1.as_bytes())),
            ("tests/test_core.py", Some(TEST_CORE_V1.as_bytes())),
            ("vendor/six.py", Some(SIX_V1.as_bytes())),
            ("docs/logo.png", Some(&logo_v1)),
            ("data/legacy.txt", Some(&legacy_v1)),
        ],
    )?;
    b.commit(
        "main",
        ALICE,
        "Add contributing notes\n\nExplain how to run the tests.\n",
        &[(
            "CONTRIBUTING.md",
            Some(b"# Contributing\n\nRun `pytest` before opening a pull request.\n"),
        )],
    )?;

    // PR #1: a two-commit bug fix, merged with a merge commit.
    b.branch("fix-unit-case", "main")?;
    b.commit(
        "fix-unit-case",
        BOB,
        "Accept upper-case units in parse_size\n\nSigned-off-by: Bob Okafor <bob@example.org>\n",
        &[("widgets/core.py", Some(CORE_V2.as_bytes()))],
    )?;
    b.commit(
        "fix-unit-case",
        BOB,
        "Test upper-case units\n",
        &[("tests/test_core.py", Some(TEST_CORE_V2.as_bytes()))],
    )?;
    b.merge_pr(
        1,
        "fix-unit-case",
        "bob",
        "parse_size fails on upper-case units like 2EM",
        MAINTAINER,
    )?;
    b.delete_branch("fix-unit-case")?;

    // PR #2: squash-merged helper with tests.
    b.branch("clamp", "main")?;
    b.commit(
        "clamp",
        CAROL,
        "Add clamp\n",
        &[("widgets/util.py", Some(UTIL_V2.as_bytes()))],
    )?;
    b.commit(
        "clamp",
        CAROL,
        "Tests for clamp\n",
        &[("tests/test_util.py", Some(TEST_UTIL_V1.as_bytes()))],
    )?;
    b.squash_pr(
        2,
        "clamp",
        "clamp_ratio does not clamp values above 1",
        "clamp_ratio(1.5) returned 1.5.\n\n* Add clamp\n* Tests for clamp",
        CAROL,
    )?;
    b.delete_branch("clamp")?;

    // PR #3 is opened now, but main moves on (PR #4) before it is merged.
    b.branch("widget-repr", "main")?;
    b.commit(
        "widget-repr",
        ALICE,
        "Give Widget a readable repr\n",
        &[("widgets/core.py", Some(CORE_V3.as_bytes()))],
    )?;
    b.branch("doc-ratio", "main")?;
    b.commit(
        "doc-ratio",
        BOB,
        "Document ratio clamping\n",
        &[("widgets/util.py", Some(UTIL_V3.as_bytes()))],
    )?;
    b.squash_pr(4, "doc-ratio", "Document that ratios are clamped", "", BOB)?;
    b.delete_branch("doc-ratio")?;
    b.commit(
        "widget-repr",
        ALICE,
        "Test Widget repr\n\nCo-authored-by: Bob Okafor <bob@example.org>\n",
        &[("tests/test_core.py", Some(TEST_CORE_V3.as_bytes()))],
    )?;
    b.merge_pr(
        3,
        "widget-repr",
        "alice",
        "Widget repr is unreadable in logs",
        MAINTAINER,
    )?;
    b.delete_branch("widget-repr")?;

    // PR #5: the branch merges main in midway (a merge commit inside the PR).
    b.branch("resize-validation", "main")?;
    b.commit(
        "resize-validation",
        CAROL,
        "Reject non-positive resize factors\n",
        &[("widgets/core.py", Some(CORE_V4.as_bytes()))],
    )?;
    b.commit(
        "main",
        MAINTAINER,
        "Pin requests in requirements\n",
        &[("requirements.txt", Some(b"requests==2.31.0  # pinned\n"))],
    )?;
    b.merge(
        "resize-validation",
        "main",
        CAROL,
        "Merge branch 'main' into resize-validation\n",
    )?;
    b.commit(
        "resize-validation",
        CAROL,
        "Test resize validation\n",
        &[("tests/test_core.py", Some(TEST_CORE_V4.as_bytes()))],
    )?;
    b.merge_pr(
        5,
        "resize-validation",
        "carol",
        "Widget.resize(0) silently produces an empty widget",
        MAINTAINER,
    )?;
    b.delete_branch("resize-validation")?;

    // PR #6: a bot bumps a dependency (lockfile and requirements).
    let lock_v2 = poetry_lock("2.32.3");
    b.branch("dependabot/pip/requests-2.32.3", "main")?;
    b.commit(
        "dependabot/pip/requests-2.32.3",
        DEPENDABOT,
        "Bump requests from 2.31.0 to 2.32.3\n\nBumps [requests](https://github.com/psf/requests) from 2.31.0 to 2.32.3.\n\nSigned-off-by: dependabot[bot] <support@github.com>\n",
        &[
            ("requirements.txt", Some(REQUIREMENTS_V2.as_bytes())),
            ("poetry.lock", Some(lock_v2.as_bytes())),
        ],
    )?;
    b.merge_pr(
        6,
        "dependabot/pip/requests-2.32.3",
        "acme",
        "Bump requests from 2.31.0 to 2.32.3",
        MAINTAINER,
    )?;
    b.delete_branch("dependabot/pip/requests-2.32.3")?;

    // PR #7: a binary file changes along with text.
    let logo_v2 = logo(2);
    b.branch("new-logo", "main")?;
    b.commit(
        "new-logo",
        ALICE,
        "Refresh the logo and link it from the README\n",
        &[
            ("docs/logo.png", Some(&logo_v2)),
            (
                "README.md",
                Some(format!("{README}\n![logo](docs/logo.png)\n").as_bytes()),
            ),
        ],
    )?;
    b.merge_pr(7, "new-logo", "alice", "Refresh the logo", MAINTAINER)?;
    b.delete_branch("new-logo")?;

    // PR #8: vendored code changes along with our code.
    b.branch("use-six", "main")?;
    b.commit(
        "use-six",
        BOB,
        "Accept ratio strings via vendored six\n",
        &[
            ("vendor/six.py", Some(SIX_V2.as_bytes())),
            ("widgets/util.py", Some(UTIL_V4.as_bytes())),
        ],
    )?;
    b.merge_pr(
        8,
        "use-six",
        "bob",
        "clamp_ratio(\"0.5\") raises TypeError",
        MAINTAINER,
    )?;
    b.delete_branch("use-six")?;

    // PR #9: a file is added and another deleted.
    b.branch("text-module", "main")?;
    b.commit(
        "text-module",
        CAROL,
        "Replace legacy.ellipsize with text.shorten\n",
        &[
            ("widgets/text.py", Some(TEXT_PY.as_bytes())),
            ("widgets/legacy.py", None),
            ("widgets/__init__.py", Some(INIT_TEXT.as_bytes())),
        ],
    )?;
    b.merge_pr(
        9,
        "text-module",
        "carol",
        "ellipsize cuts labels one character too early",
        MAINTAINER,
    )?;
    b.delete_branch("text-module")?;

    // PR #10: a non-UTF-8 data file changes along with code.
    let legacy_v2 = legacy_table(true);
    b.branch("legacy-sizes", "main")?;
    b.commit(
        "legacy-sizes",
        ALICE,
        "Load the legacy Latin-1 size table\n",
        &[
            ("data/legacy.txt", Some(&legacy_v2)),
            ("widgets/core.py", Some(CORE_V5.as_bytes())),
        ],
    )?;
    b.merge_pr(
        10,
        "legacy-sizes",
        "alice",
        "Support the legacy size table",
        MAINTAINER,
    )?;
    b.delete_branch("legacy-sizes")?;

    // PR #11: a planted secret (squash).
    b.branch("settings-aws", "main")?;
    b.commit(
        "settings-aws",
        BOB,
        "Read AWS credentials from settings\n",
        &[("widgets/settings.py", Some(SETTINGS_V2.as_bytes()))],
    )?;
    b.squash_pr(
        11,
        "settings-aws",
        "Allow uploads to S3",
        "Contact bob@example.org or @bob-okafor for the bucket.",
        BOB,
    )?;
    b.delete_branch("settings-aws")?;

    // PR #12: a planted <|endoftext|> in a docstring.
    b.branch("eot-marker", "main")?;
    b.commit(
        "eot-marker",
        CAROL,
        "Stop reading legacy sizes at the end-of-text marker\n",
        &[("widgets/core.py", Some(CORE_V6.as_bytes()))],
    )?;
    b.merge_pr(
        12,
        "eot-marker",
        "carol",
        "Legacy exports end with a marker line",
        MAINTAINER,
    )?;
    b.delete_branch("eot-marker")?;

    // PR #13: a generated file too large to keep, plus a real change.
    let tables_v2 = big_tables(2);
    b.branch("regen-tables", "main")?;
    b.commit(
        "regen-tables",
        BOB,
        "Regenerate lookup tables\n",
        &[
            ("widgets/_tables.py", Some(tables_v2.as_bytes())),
            ("setup.py", Some(SETUP.replace("0.1.0", "0.1.1").as_bytes())),
        ],
    )?;
    b.merge_pr(
        13,
        "regen-tables",
        "bob",
        "Regenerate lookup tables",
        MAINTAINER,
    )?;
    b.delete_branch("regen-tables")?;

    b.commit(
        "main",
        MAINTAINER,
        "Release 0.2.0\n",
        &[("setup.py", Some(SETUP.replace("0.1.0", "0.2.0").as_bytes()))],
    )?;

    // PR #14: a bug fix that names the issue it fixes.
    b.branch("resize-rounding", "main")?;
    b.commit(
        "resize-rounding",
        ALICE,
        "Round in Widget.resize instead of truncating\n\nFixes #20\n",
        &[("widgets/core.py", Some(CORE_V7.as_bytes()))],
    )?;
    b.commit(
        "resize-rounding",
        ALICE,
        "Test rounding in resize\n",
        &[("tests/test_core.py", Some(TEST_CORE_V5.as_bytes()))],
    )?;
    b.merge_pr(
        14,
        "resize-rounding",
        "alice",
        "Widget.resize(0.5) of a 3px widget gives 1px",
        MAINTAINER,
    )?;
    b.delete_branch("resize-rounding")?;
    let _ = EPOCH;
    Ok(b)
}

/// forker/widgets: the same history plus one PR of the fork's own.
pub fn build_fork(path: &Path, upstream: &RepoBuilder) -> Result<RepoBuilder, DemoError> {
    let mut b = RepoBuilder::create_copy(path, upstream, false)?;
    b.branch("ratio-percent", "main")?;
    b.commit(
        "ratio-percent",
        CAROL,
        "Accept percentages in clamp_ratio\n",
        &[(
            "widgets/util.py",
            Some(UTIL_V4.replace(
                "        value = float(value)\n",
                "        value = float(value.rstrip(\"%\")) / (100 if value.endswith(\"%\") else 1)\n",
            ).as_bytes()),
        )],
    )?;
    b.merge_pr(
        101,
        "ratio-percent",
        "carol",
        "clamp_ratio(\"50%\") raises ValueError",
        CAROL,
    )?;
    b.delete_branch("ratio-percent")?;
    Ok(b)
}

const PERCENT_HELPER: &str = "\n\ndef percent(value, total):\n    \"\"\"value as a percentage of total, 0 when total is 0.\"\"\"\n    if total == 0:\n        return 0.0\n    return 100.0 * value / total\n\n\ndef percent_text(value, total, digits=1):\n    \"\"\"A progress label such as '42.5 %' for progress bars and status lines.\"\"\"\n    share = percent(value, total)\n    share = clamp(share, 0.0, 100.0)\n    return f\"{share:.{digits}f} %\"\n\n\ndef remaining_percent(value, total):\n    \"\"\"What is left to do, as a percentage of the total work.\"\"\"\n    return 100.0 - clamp(percent(value, total), 0.0, 100.0)\n";

fn git(e: git2::Error) -> DemoError {
    DemoError::Git(e.message().to_string())
}

/// The content of `path` at the tip of main.
fn file_at_main(b: &RepoBuilder, path: &str) -> Result<String, DemoError> {
    let commit = b.repo.find_commit(b.tip("main")?).map_err(git)?;
    let entry = commit
        .tree()
        .map_err(git)?
        .get_path(Path::new(path))
        .map_err(git)?;
    let blob = b.repo.find_blob(entry.id()).map_err(git)?;
    Ok(String::from_utf8_lossy(blob.content()).into_owned())
}

/// After the fork, both sides add the same helper: upstream as PR #15, the fork (not knowing)
/// as PR #102 with one comment more. Near duplicates that dedup must collapse onto upstream's.
pub fn diverge(upstream: &mut RepoBuilder, fork: &mut RepoBuilder) -> Result<(), DemoError> {
    let up = format!(
        "{}{PERCENT_HELPER}",
        file_at_main(upstream, "widgets/util.py")?
    );
    upstream.branch("percent", "main")?;
    upstream.commit(
        "percent",
        ALICE,
        "Add percent helper\n",
        &[("widgets/util.py", Some(up.as_bytes()))],
    )?;
    upstream.merge_pr(
        15,
        "percent",
        "alice",
        "Add a percent helper for progress widgets",
        MAINTAINER,
    )?;
    upstream.delete_branch("percent")?;

    let helper = PERCENT_HELPER.replace(
        "    if total == 0:\n",
        "    # Avoid dividing by zero for empty progress bars.\n    if total == 0:\n",
    );
    let forked = format!("{}{helper}", file_at_main(fork, "widgets/util.py")?);
    fork.branch("percent-helper", "main")?;
    fork.commit(
        "percent-helper",
        CAROL,
        "Add percent helper\n",
        &[("widgets/util.py", Some(forked.as_bytes()))],
    )?;
    fork.merge_pr(
        102,
        "percent-helper",
        "carol",
        "Add a percent helper for progress widgets",
        CAROL,
    )?;
    fork.delete_branch("percent-helper")?;
    Ok(())
}
