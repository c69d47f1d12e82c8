//! Repository identity: lower-case `owner/name`, from a recipe entry, an origin URL, or a
//! folder named `owner+name` / `owner__name`.

/// Lower-case `owner/name` if `name` has that form.
pub fn normalize(name: &str) -> Option<String> {
    let name = name.trim().trim_end_matches('/');
    let name = name.strip_suffix(".git").unwrap_or(name);
    let (owner, repo) = name.split_once('/')?;
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    (ok(owner) && ok(repo)).then(|| format!("{}/{}", owner.to_lowercase(), repo.to_lowercase()))
}

/// `owner/name` from a remote URL: `https://host/owner/name(.git)`, `git@host:owner/name.git`,
/// `ssh://git@host/owner/name`, or a local path ending in `owner/name(.git)`.
pub fn from_remote_url(url: &str) -> Option<String> {
    let url = url.trim().trim_end_matches('/');
    let path = if let Some((scheme, rest)) = url.split_once("://") {
        // A file:// remote is a local path, which names a folder, not a repository.
        if scheme.eq_ignore_ascii_case("file") {
            return None;
        }
        rest.split_once('/').map(|(_, p)| p)?
    } else if let Some((host, rest)) = url.split_once(':')
        && !host.contains('/')
        && host.len() > 1
    {
        rest
    } else {
        return None;
    };
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.len() < 2 {
        return None;
    }
    normalize(&format!(
        "{}/{}",
        parts[parts.len() - 2],
        parts[parts.len() - 1]
    ))
}

/// `owner/name` from a folder named `owner+name` or `owner__name` (SWE-bench's mirror form),
/// with an optional `.git` suffix.
pub fn from_folder(folder: &str) -> Option<String> {
    let folder = folder.strip_suffix(".git").unwrap_or(folder);
    let (owner, repo) = folder.split_once('+').or_else(|| folder.split_once("__"))?;
    normalize(&format!("{owner}/{repo}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        for (url, want) in [
            ("https://github.com/Psf/Requests.git", Some("psf/requests")),
            ("git@github.com:pallets/flask.git", Some("pallets/flask")),
            ("ssh://git@github.com/a/b", Some("a/b")),
            ("https://github.com/a", None),
            ("/srv/mirrors/a/b.git", None),
            ("file:///srv/mirrors/a/b.git", None),
        ] {
            assert_eq!(from_remote_url(url).as_deref(), want, "{url}");
        }
    }

    #[test]
    fn parses_folders() {
        assert_eq!(
            from_folder("psf__requests").as_deref(),
            Some("psf/requests")
        );
        assert_eq!(
            from_folder("acme+widgets.git").as_deref(),
            Some("acme/widgets")
        );
        assert_eq!(from_folder("widgets"), None);
        assert_eq!(normalize("Owner/Name/"), Some("owner/name".into()));
        assert_eq!(normalize("no-slash"), None);
    }
}
