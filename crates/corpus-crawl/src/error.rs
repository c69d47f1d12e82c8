use thiserror::Error;

#[derive(Debug, Error)]
pub enum CrawlError {
    /// The request or time budget of this crawl is spent; a later run continues.
    #[error("crawl budget spent ({0}); run the crawl again to continue where it stopped")]
    Budget(String),
    #[error(
        "offline crawl: no cached response for GET {0}; run the crawl online once to record it"
    )]
    Offline(String),
    #[error("GET {url}: not found (HTTP {status})")]
    NotFound { url: String, status: u16 },
    #[error("GET {url}: HTTP {status}: {message}")]
    Http {
        url: String,
        status: u16,
        message: String,
    },
    #[error("GET {url}: gave up after {attempts} attempts: {last}")]
    GaveUp {
        url: String,
        attempts: u32,
        last: String,
    },
    #[error("GET {url}: unexpected response: {message}")]
    Shape { url: String, message: String },
    #[error("mirror {repo}: {message}")]
    Mirror { repo: String, message: String },
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Core(#[from] corpus_core::Error),
}

pub type Result<T> = std::result::Result<T, CrawlError>;
