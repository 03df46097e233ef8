//! A TCP forwarder that can be switched off and on, to cut a service off from the server
//! under test (database outages) and bring it back.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct TcpToggle {
    pub addr: SocketAddr,
    up: watch::Sender<bool>,
}

impl TcpToggle {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind toggle");
        let addr = listener.local_addr().expect("toggle addr");
        let (up, watch_rx) = watch::channel(true);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut state = watch_rx.clone();
                if !*state.borrow() {
                    drop(inbound); // refused while down
                    continue;
                }
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = state.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Self { addr, up }
    }

    /// Drops every open connection and refuses new ones.
    pub fn down(&self) {
        let _ = self.up.send(false);
    }

    pub fn up(&self) {
        let _ = self.up.send(true);
    }
}
