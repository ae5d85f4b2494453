//! A TCP proxy in front of the test PostgreSQL that can be stopped and resumed on the same
//! port: a database outage (open connections cut, new ones refused) without touching the
//! server the other tests share.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct TcpProxy {
    pub addr: SocketAddr,
    target: SocketAddr,
    accept: Mutex<Option<JoinHandle<()>>>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl TcpProxy {
    /// Listens on a free loopback port and forwards every connection to `target`.
    pub async fn start(target: SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = TcpProxy {
            addr: listener.local_addr().unwrap(),
            target,
            accept: Mutex::default(),
            connections: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let (target, connections) = (self.target, self.connections.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let forward = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                connections.lock().unwrap().push(forward);
            }
        });
        *self.accept.lock().unwrap() = Some(accept);
    }

    /// The outage: open connections are cut and the port refuses new ones.
    pub async fn stop(&self) {
        if let Some(accept) = self.accept.lock().unwrap().take() {
            accept.abort();
        }
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
        // The listener is dropped when the aborted task is; wait until the port refuses.
        while TcpStream::connect(self.addr).await.is_ok() {
            tokio::task::yield_now().await;
        }
    }

    /// The database is back, on the same address.
    pub async fn resume(&self) {
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener);
    }
}
