//! A DNS server for tests (UDP on 127.0.0.1), answering TXT and A queries from a table: names
//! it knows get their records, unknown names get NXDOMAIN, and names told to be silent get no
//! answer at all (a timeout). Messages are parsed and built with `hickory-proto`.

use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, TXT};
use hickory_proto::rr::{RData, Record, RecordType};
use tokio::net::UdpSocket;

#[derive(Default)]
struct Zone {
    txt: HashMap<String, Vec<String>>,
    a: HashMap<String, Vec<Ipv4Addr>>,
    silent: HashSet<String>,
}

pub struct DnsStub {
    pub addr: SocketAddr,
    zone: Arc<Mutex<Zone>>,
    task: tokio::task::JoinHandle<()>,
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl DnsStub {
    pub async fn start() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind DNS stub");
        let addr = socket.local_addr().expect("DNS stub address");
        let zone: Arc<Mutex<Zone>> = Arc::default();
        let table = zone.clone();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            loop {
                let Ok((n, peer)) = socket.recv_from(&mut buf).await else { continue };
                let Ok(query) = Message::from_vec(&buf[..n]) else { continue };
                let Some(answer) = respond(&query, &table) else { continue };
                if let Ok(bytes) = answer.to_vec() {
                    let _ = socket.send_to(&bytes, peer).await;
                }
            }
        });
        Self { addr, zone, task }
    }

    /// The TXT records of `name` become exactly `values` (an empty list: the name exists
    /// without TXT records).
    pub fn set_txt(&self, name: &str, values: &[&str]) {
        let mut zone = self.zone.lock().unwrap();
        zone.silent.remove(&key(name));
        zone.txt.insert(key(name), values.iter().map(|v| (*v).to_owned()).collect());
    }

    /// The IPv4 addresses of `name` become exactly `ips`.
    pub fn set_a(&self, name: &str, ips: &[Ipv4Addr]) {
        let mut zone = self.zone.lock().unwrap();
        zone.silent.remove(&key(name));
        zone.a.insert(key(name), ips.to_vec());
    }

    /// `name` no longer exists (NXDOMAIN).
    pub fn remove(&self, name: &str) {
        let mut zone = self.zone.lock().unwrap();
        zone.txt.remove(&key(name));
        zone.a.remove(&key(name));
    }

    /// Queries for `name` go unanswered.
    pub fn silence(&self, name: &str) {
        self.zone.lock().unwrap().silent.insert(key(name));
    }
}

impl Drop for DnsStub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn respond(query: &Message, zone: &Mutex<Zone>) -> Option<Message> {
    let question = query.queries().first()?;
    let name = key(&question.name().to_ascii());
    let zone = zone.lock().ok()?;
    if zone.silent.contains(&name) {
        return None;
    }
    let mut answer = Message::new();
    answer
        .set_id(query.id())
        .set_message_type(MessageType::Response)
        .set_op_code(query.op_code())
        .set_recursion_desired(query.recursion_desired())
        .set_recursion_available(true)
        .add_queries(query.queries().to_vec());
    if !zone.txt.contains_key(&name) && !zone.a.contains_key(&name) {
        answer.set_response_code(ResponseCode::NXDomain);
        return Some(answer);
    }
    answer.set_response_code(ResponseCode::NoError);
    let owner = question.name().clone();
    match question.query_type() {
        RecordType::TXT => {
            for value in zone.txt.get(&name).into_iter().flatten() {
                let rdata = RData::TXT(TXT::new(vec![value.clone()]));
                answer.add_answer(Record::from_rdata(owner.clone(), 60, rdata));
            }
        }
        RecordType::A => {
            for ip in zone.a.get(&name).into_iter().flatten() {
                answer.add_answer(Record::from_rdata(owner.clone(), 60, RData::A(A(*ip))));
            }
        }
        _ => {}
    }
    Some(answer)
}
