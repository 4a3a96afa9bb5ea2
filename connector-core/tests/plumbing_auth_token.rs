//! `connector_core::auth`: the token cache (refresh ahead of expiry, single flight, shared
//! failures, invalidation, retry on 401) and token redaction.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use connector_core::auth::{StaticTokenProvider, Token, TokenCache, TokenProvider};
use connector_core::{ConnectorError, ErrorKind, Result};
use secrecy::{ExposeSecret, SecretString};

/// Counts fetches, sleeps `delay` in each, and hands out `token-<n>` living `lifetime`;
/// fails while `fail` is set.
#[derive(Debug)]
struct CountingProvider {
    calls: AtomicU32,
    delay: Duration,
    lifetime: Option<Duration>,
    fail: std::sync::atomic::AtomicBool,
}

impl CountingProvider {
    fn new(delay: Duration, lifetime: Option<Duration>) -> Arc<Self> {
        Arc::new(Self {
            calls: AtomicU32::new(0),
            delay,
            lifetime,
            fail: std::sync::atomic::AtomicBool::new(false),
        })
    }

    fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl TokenProvider for CountingProvider {
    async fn fetch_token(&self) -> Result<Token> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(self.delay).await;
        if self.fail.load(Ordering::SeqCst) {
            return Err(ConnectorError::new(
                ErrorKind::Unauthenticated,
                "test.token",
                "invalid_client",
            )
            .with_remote(Some(400), Some("invalid_client"), Some("bad client secret")));
        }
        Ok(
            Token::bearer(SecretString::from(format!("token-{n}")), self.lifetime)
                .with_extra("api_domain", "https://www.zohoapis.eu"),
        )
    }
}

fn secret(token: &Token) -> &str {
    token.access_token.expose_secret()
}

#[tokio::test(start_paused = true)]
async fn fifty_concurrent_gets_fetch_once() {
    let provider =
        CountingProvider::new(Duration::from_millis(100), Some(Duration::from_secs(3600)));
    let cache = TokenCache::new(provider.clone());
    let gets = (0..50).map(|_| {
        let cache = cache.clone();
        async move { cache.get().await }
    });
    let tokens = futures::future::join_all(gets).await;
    assert_eq!(provider.calls(), 1);
    for token in tokens {
        assert_eq!(secret(&token.unwrap()), "token-1");
    }
    // Cached afterwards.
    assert_eq!(secret(&cache.get().await.unwrap()), "token-1");
    assert_eq!(provider.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn concurrent_gets_on_spawned_tasks_fetch_once() {
    let provider =
        CountingProvider::new(Duration::from_millis(100), Some(Duration::from_secs(3600)));
    let cache = TokenCache::new(provider.clone());
    let handles: Vec<_> = (0..50)
        .map(|_| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.get().await.map(|t| secret(&t).to_owned()) })
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.await.unwrap().unwrap(), "token-1");
    }
    assert_eq!(provider.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn refreshes_ahead_of_expiry() {
    // One-hour tokens: refreshed once less than 5 minutes are left.
    let provider = CountingProvider::new(Duration::ZERO, Some(Duration::from_secs(3600)));
    let cache = TokenCache::new(provider.clone());
    assert_eq!(secret(&cache.get().await.unwrap()), "token-1");
    tokio::time::advance(Duration::from_secs(3600 - 301)).await;
    assert_eq!(secret(&cache.get().await.unwrap()), "token-1");
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(secret(&cache.get().await.unwrap()), "token-2");
    assert_eq!(provider.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn short_lived_tokens_are_reused_for_half_their_life() {
    // 60-second tokens: the 5-minute margin is cut to 30 s, so they are reused.
    let provider = CountingProvider::new(Duration::ZERO, Some(Duration::from_secs(60)));
    let cache = TokenCache::new(provider.clone());
    assert_eq!(secret(&cache.get().await.unwrap()), "token-1");
    tokio::time::advance(Duration::from_secs(29)).await;
    assert_eq!(secret(&cache.get().await.unwrap()), "token-1");
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(secret(&cache.get().await.unwrap()), "token-2");
    assert_eq!(provider.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn tokens_without_expiry_are_kept() {
    let provider = CountingProvider::new(Duration::ZERO, None);
    let cache = TokenCache::with_min_ttl(provider.clone(), Duration::from_secs(60));
    cache.get().await.unwrap();
    tokio::time::advance(Duration::from_secs(86_400)).await;
    cache.get().await.unwrap();
    assert_eq!(provider.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn failed_refresh_is_shared_and_not_cached() {
    let provider =
        CountingProvider::new(Duration::from_millis(50), Some(Duration::from_secs(3600)));
    provider.fail.store(true, Ordering::SeqCst);
    let cache = TokenCache::new(provider.clone());
    let results = futures::future::join_all((0..10).map(|_| cache.get())).await;
    assert_eq!(provider.calls(), 1);
    for result in results {
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthenticated);
        assert_eq!(err.operation(), "test.token");
        assert_eq!(err.remote_code(), Some("invalid_client"));
        assert_eq!(err.http_status(), Some(400));
    }
    // The next call tries again, and succeeds.
    provider.fail.store(false, Ordering::SeqCst);
    assert_eq!(secret(&cache.get().await.unwrap()), "token-2");
    assert_eq!(provider.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn invalidate_only_drops_the_same_token() {
    let provider = CountingProvider::new(Duration::ZERO, Some(Duration::from_secs(3600)));
    let cache = TokenCache::new(provider.clone());
    let old = cache.get().await.unwrap();
    cache.invalidate(&old);
    let new = cache.get().await.unwrap();
    assert_eq!(secret(&new), "token-2");
    // A late 401 for the old token does not throw away the new one.
    cache.invalidate(&old);
    assert_eq!(secret(&cache.get().await.unwrap()), "token-2");
    assert_eq!(provider.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn with_token_refreshes_once_on_unauthenticated() {
    let provider = CountingProvider::new(Duration::ZERO, Some(Duration::from_secs(3600)));
    let cache = TokenCache::new(provider.clone());
    let seen = std::sync::Mutex::new(Vec::new());
    let result = cache
        .with_token(|token| {
            let value = secret(&token).to_owned();
            seen.lock().unwrap().push(value.clone());
            async move {
                if value == "token-1" {
                    Err(ConnectorError::new(
                        ErrorKind::Unauthenticated,
                        "test.call",
                        "INVALID_SESSION_ID",
                    ))
                } else {
                    Ok(value)
                }
            }
        })
        .await
        .unwrap();
    assert_eq!(result, "token-2");
    assert_eq!(*seen.lock().unwrap(), ["token-1", "token-2"]);

    // Always rejected: tried exactly twice, then the error is returned.
    let calls = AtomicU32::new(0);
    let err = cache
        .with_token(|_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async {
                Err::<(), _>(ConnectorError::new(
                    ErrorKind::Unauthenticated,
                    "test.call",
                    "no",
                ))
            }
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    // Other errors are not retried.
    let calls = AtomicU32::new(0);
    let err = cache
        .with_token(|_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async {
                Err::<(), _>(ConnectorError::new(
                    ErrorKind::PermissionDenied,
                    "test.call",
                    "no",
                ))
            }
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn static_provider_and_header_values() {
    let cache = TokenCache::new(Arc::new(StaticTokenProvider::bearer(SecretString::from(
        "s3cr3t-value",
    ))));
    let token = cache.get().await.unwrap();
    assert_eq!(token.token_type.as_deref(), Some("Bearer"));
    assert_eq!(
        token.authorization_value("Bearer").expose_secret(),
        "Bearer s3cr3t-value"
    );
    assert_eq!(
        token.authorization_value("Zoho-oauthtoken").expose_secret(),
        "Zoho-oauthtoken s3cr3t-value"
    );
    let header = token.header_value("Bearer").unwrap();
    assert!(header.is_sensitive());
    assert_eq!(header.to_str().unwrap(), "Bearer s3cr3t-value");
    assert!(!format!("{header:?}").contains("s3cr3t"));

    let bad = Token::bearer(SecretString::from("bad\ns3cr3t"), None);
    let err = bad.header_value("Bearer").unwrap_err();
    assert!(!format!("{err} {err:?}").contains("s3cr3t"));
}

#[tokio::test]
async fn debug_never_shows_the_token() {
    let token = Token::bearer(
        SecretString::from("s3cr3t-value"),
        Some(Duration::from_secs(60)),
    )
    .with_extra("instance_url", "https://example.my.salesforce.com");
    let shown = format!("{token:?}");
    assert!(!shown.contains("s3cr3t"), "{shown}");
    assert!(shown.contains("instance_url"), "{shown}");
    assert_eq!(
        token.extra("instance_url"),
        Some("https://example.my.salesforce.com")
    );
    assert!(!token.is_expired());

    let provider = Arc::new(StaticTokenProvider::new(token));
    assert!(!format!("{provider:?}").contains("s3cr3t"));
    let cache = TokenCache::new(provider);
    cache.get().await.unwrap();
    let shown = format!("{cache:?}");
    assert!(!shown.contains("s3cr3t"), "{shown}");
}

#[tokio::test(start_paused = true)]
async fn expiry_helpers() {
    let token = Token::bearer(SecretString::from("x"), Some(Duration::from_secs(10)));
    assert_eq!(token.expires_in(), Some(Duration::from_secs(10)));
    tokio::time::advance(Duration::from_secs(11)).await;
    assert!(token.is_expired());
    assert_eq!(token.expires_in(), Some(Duration::ZERO));
    assert_eq!(
        Token::bearer(SecretString::from("x"), None).expires_in(),
        None
    );
}
