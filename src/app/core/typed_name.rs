//! The production confirmation the scale and rollback dialogs share: the operator types the
//! app id, and only an exact match lets the change go on.

/// Longest app id the confirmation accepts, in characters.
const MAX_TYPED: usize = 128;

/// Type one more character of the app id; false once [`MAX_TYPED`] are typed.
pub(crate) fn push(typed: &mut String, c: char) -> bool {
    let room = typed.chars().count() < MAX_TYPED;
    if room {
        typed.push(c);
    }
    room
}

/// Whether `typed` confirms a change to `app` (always true outside production).
pub fn confirms(production: bool, typed: &str, app: &str) -> bool {
    !production || typed == app
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_id_confirms_and_typing_stops_at_the_limit() {
        assert!(confirms(false, "", "shop-cart"));
        assert!(!confirms(true, "shop-car", "shop-cart"));
        assert!(!confirms(true, "Shop-cart", "shop-cart"));
        assert!(confirms(true, "shop-cart", "shop-cart"));
        let mut typed = String::new();
        for _ in 0..MAX_TYPED + 10 {
            let _ = push(&mut typed, '购');
        }
        assert_eq!(typed.chars().count(), MAX_TYPED);
        assert!(!push(&mut typed, 'x'));
    }
}
