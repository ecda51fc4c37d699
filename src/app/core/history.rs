//! A fixed-capacity ring of recent samples, for sparklines and charts. Pushing never allocates
//! once the ring is full.

use std::collections::VecDeque;

/// The newest `capacity` values, oldest first.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    values: VecDeque<f64>,
    capacity: usize,
}

impl History {
    pub fn new(capacity: usize) -> Self {
        History {
            values: VecDeque::with_capacity(capacity),
            capacity: capacity.max(1),
        }
    }

    pub fn push(&mut self, value: f64) {
        if self.values.len() == self.capacity {
            self.values.pop_front();
        }
        self.values.push_back(value);
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The newest `n` values (fewer if the ring holds fewer), oldest first.
    pub fn last(&self, n: usize) -> impl Iterator<Item = f64> + '_ {
        self.values
            .iter()
            .skip(self.values.len().saturating_sub(n))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_newest_values() {
        let mut h = History::new(3);
        for v in 1..=5 {
            h.push(f64::from(v));
        }
        assert_eq!(h.len(), 3);
        assert_eq!(h.last(10).collect::<Vec<_>>(), vec![3.0, 4.0, 5.0]);
        assert_eq!(h.last(2).collect::<Vec<_>>(), vec![4.0, 5.0]);
    }
}
