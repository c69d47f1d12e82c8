//! The licence of a repository snapshot, as an SPDX id, from the text of its LICENSE file.
//! Recognition is by the phrases each licence's text is built on, so reformatted or
//! year-changed copies are still recognised; anything else is `NOASSERTION`.

/// File names (case-insensitive, at the tree's root) that hold a licence, most specific first.
pub const LICENSE_FILES: &[&str] = &[
    "license",
    "license.txt",
    "license.md",
    "license.rst",
    "licence",
    "licence.txt",
    "licence.md",
    "copying",
    "copying.txt",
    "license-mit",
    "license.mit",
];

/// Whether `name` (a root entry) is a licence file.
pub fn is_license_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    LICENSE_FILES.contains(&lower.as_str())
}

/// The SPDX id of a licence text, or `NOASSERTION`.
pub fn spdx_of(text: &str) -> &'static str {
    let t: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    let has = |s: &str| t.contains(s);
    if has("gnu affero general public license") {
        return if has("version 3") {
            "AGPL-3.0"
        } else {
            "NOASSERTION"
        };
    }
    if has("gnu lesser general public license") || has("gnu library general public license") {
        if has("version 3") {
            return "LGPL-3.0";
        }
        if has("version 2.1") {
            return "LGPL-2.1";
        }
        return "LGPL-2.0";
    }
    if has("gnu general public license") {
        if has("version 3") {
            return "GPL-3.0";
        }
        if has("version 2") {
            return "GPL-2.0";
        }
        return "NOASSERTION";
    }
    if has("apache license") && has("version 2.0") {
        return "Apache-2.0";
    }
    if has("mozilla public license") && has("2.0") {
        return "MPL-2.0";
    }
    if has("permission is hereby granted, free of charge, to any person obtaining a copy") {
        return "MIT";
    }
    if has("permission to use, copy, modify, and/or distribute this software for any purpose") {
        return "ISC";
    }
    if has("redistribution and use in source and binary forms") {
        if has("neither the name") || has("names of its contributors may be used") {
            return "BSD-3-Clause";
        }
        return "BSD-2-Clause";
    }
    if has("this is free and unencumbered software released into the public domain") {
        return "Unlicense";
    }
    if has("python software foundation license") {
        return "PSF-2.0";
    }
    if has("boost software license") {
        return "BSL-1.0";
    }
    "NOASSERTION"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_common_licences() {
        let mit = "MIT License\n\nCopyright (c) 2024 Acme\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\nof this software...";
        assert_eq!(spdx_of(mit), "MIT");
        assert_eq!(
            spdx_of("Apache License\n  Version 2.0, January 2004"),
            "Apache-2.0"
        );
        assert_eq!(
            spdx_of(
                "Redistribution and use in source and binary forms, with or without\nmodification... Neither the name of the copyright holder"
            ),
            "BSD-3-Clause"
        );
        assert_eq!(
            spdx_of("GNU GENERAL PUBLIC LICENSE\n Version 3, 29 June 2007"),
            "GPL-3.0"
        );
        assert_eq!(spdx_of("All rights reserved."), "NOASSERTION");
        assert!(is_license_file("LICENSE.md"));
        assert!(!is_license_file("LICENSES"));
    }
}
