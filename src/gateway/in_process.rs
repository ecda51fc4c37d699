//! The gateway without a server, driven by its caller: the same state, actions layer, hub
//! (sequence numbers and encoding) and runs as `opsdeck serve`, but nothing listens and the
//! platform's feed is not started; the caller steps the platform and publishes what it emits.
//! `opsdeck screenshots` and the render benchmarks run the console against it, so what they
//! show is what the gateway would answer and stream.

use std::sync::Arc;

use tokio::sync::broadcast::error::TryRecvError;
use tokio::sync::{broadcast, mpsc, watch};

use super::hub::Batch;
use super::{Gateway, GatewayConfig, MAX_EVENTS_PER_FRAME, Parts, seq_base_at};
use crate::platform::{Emission, EventSink, Platform};

pub struct InProcess {
    gateway: Arc<Gateway>,
    /// What runs publish (their transitions), waiting for the next [`InProcess::publish`].
    feed: mpsc::Receiver<Emission>,
    /// The hub's encoded batches, as stream sessions are woken with them.
    batches: broadcast::Receiver<Arc<Batch>>,
    /// Kept so streams and runs see a gateway that is up.
    _shutdown: watch::Sender<bool>,
    _sink: EventSink,
}

impl InProcess {
    /// A gateway named `id` in front of `platform`; sequence numbers start at the platform's
    /// clock, so the same platform gives the same numbers.
    pub fn new(
        config: GatewayConfig,
        platform: Arc<dyn Platform>,
        id: &str,
    ) -> std::io::Result<InProcess> {
        let seq_base = seq_base_at(platform.now());
        let Parts {
            gateway,
            shutdown,
            sink,
            feed,
        } = Gateway::build(config, platform, id.to_string(), seq_base)?;
        let batches = gateway.hub.subscribe_batches();
        Ok(InProcess {
            gateway,
            feed,
            batches,
            _shutdown: shutdown,
            _sink: sink,
        })
    }

    pub fn gateway(&self) -> &Arc<Gateway> {
        &self.gateway
    }

    /// Publish `emissions`, then what runs have queued, through the hub, as the gateway's
    /// ingest does; returns the frames the hub encoded (`{"type":"events",...}`), in order.
    pub fn publish(&mut self, mut emissions: Vec<Emission>) -> Vec<String> {
        while let Ok(emission) = self.feed.try_recv() {
            emissions.push(emission);
        }
        let mut frames = Vec::new();
        let mut rest = emissions.into_iter().peekable();
        while rest.peek().is_some() {
            let batch: Vec<Emission> = rest.by_ref().take(MAX_EVENTS_PER_FRAME).collect();
            self.gateway.publish(batch);
            loop {
                match self.batches.try_recv() {
                    Ok(batch) => frames.push(batch.frame.as_str().to_string()),
                    Err(TryRecvError::Lagged(_)) => continue,
                    Err(TryRecvError::Empty | TryRecvError::Closed) => break,
                }
            }
        }
        frames
    }
}
