//! Binding and running the service, with graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;

use crate::classifier::Classifier;
use crate::config::ServeConfig;
use crate::conn::Listener;
use crate::error::Error;
use crate::routes::router;

/// A bound, not yet running, service.
///
/// ```no_run
/// # async fn demo() -> Result<(), lungsound_serve::Error> {
/// use std::sync::Arc;
/// use lungsound_serve::{Server, ServeConfig, StandInClassifier};
/// let server = Server::bind(
///     "127.0.0.1:8080".parse().expect("address"),
///     Arc::new(StandInClassifier::new()),
///     ServeConfig::default(),
/// )
/// .await?;
/// println!("listening on http://{}", server.local_addr());
/// server.run().await // until Ctrl-C
/// # }
/// ```
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    local_addr: SocketAddr,
    app: Router,
}

impl Server {
    /// Validates `config`, builds the routes and opens the socket (port 0 picks a free one).
    pub async fn bind(
        addr: SocketAddr,
        classifier: Arc<dyn Classifier>,
        config: ServeConfig,
    ) -> Result<Server, Error> {
        let app = router(classifier, config)?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| Error::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| Error::Bind { addr, source })?;
        Ok(Server {
            listener,
            local_addr,
            app,
        })
    }

    /// The address actually listened on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until Ctrl-C (or SIGTERM on Unix), then stops accepting connections and
    /// returns once the requests in progress are answered.
    ///
    /// Unlike the bare [`router`], the server also answers the requests hyper refuses
    /// before routing (malformed 400, URI too long 414, headers too large 431) with JSON
    /// errors.
    pub async fn run(self) -> Result<(), Error> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes, then shuts down gracefully as [`Server::run`].
    pub async fn run_until<F>(self, shutdown: F) -> Result<(), Error>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        tracing::info!("listening on http://{}", self.local_addr);
        axum::serve(Listener::new(self.listener), self.app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(Error::Serve)?;
        tracing::info!("server stopped");
        Ok(())
    }
}

/// Completes on Ctrl-C, or on SIGTERM on Unix. If a signal handler cannot be installed, that
/// signal is logged and ignored (the other still works).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
