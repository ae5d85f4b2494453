//! Chains nobody can finish: for `config check`. A credit whose authority level nobody may
//! approve in its currency is refused at request time; the configuration should say so first.

use std::collections::BTreeSet;

use rust_decimal::Decimal;

use super::{AuthorityMatrix, ChainRule, compute_chain};
use crate::domain::identity::{Person, Role};
use crate::domain::ids::PersonKey;
use crate::domain::money::Currency;

/// Credits in `currency` (above `above`, when the gap only opens past a threshold) stop at
/// an authority level whose roles nobody holds authority for in that currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainGap {
    pub currency: Currency,
    pub above: Option<Decimal>,
    pub roles: Vec<Role>,
}

/// Every gap, for each currency the configuration names (in authority limits or thresholds).
pub fn chain_gaps(
    rules: &[ChainRule],
    matrix: &AuthorityMatrix,
    people: &[Person],
) -> Vec<ChainGap> {
    let mut currencies: BTreeSet<&Currency> = BTreeSet::new();
    currencies.extend(matrix.roles.values().flat_map(|limits| limits.keys()));
    currencies.extend(matrix.people.values().flat_map(|limits| limits.keys()));
    currencies.extend(rules.iter().flat_map(|rule| rule.above.keys()));
    // Nobody is the requester here: a gap is a gap for everyone.
    let nobody = PersonKey::parse("nobody").expect("a valid key");
    let mut gaps = Vec::new();
    for currency in currencies {
        // The chain changes only at thresholds: check just above each, and the smallest amount.
        let mut amounts: Vec<Option<Decimal>> = vec![None];
        let mut thresholds: Vec<Decimal> =
            rules.iter().filter_map(|rule| rule.above.get(currency).copied()).collect();
        thresholds.sort();
        thresholds.dedup();
        amounts.extend(thresholds.into_iter().map(Some));
        for above in amounts {
            let amount = above.map_or(Decimal::new(1, 2), |t| t + Decimal::new(1, 2));
            let chain = compute_chain(rules, amount, currency);
            let Some(level) = chain.iter().find(|level| level.authority) else { continue };
            let approvable = matrix.approvable_currencies(people.iter(), &nobody, level);
            let known =
                gaps.iter().any(|g: &ChainGap| g.currency == *currency && g.roles == level.roles);
            if !approvable.contains(currency) && !known {
                gaps.push(ChainGap {
                    currency: currency.clone(),
                    above,
                    roles: level.roles.clone(),
                });
            }
        }
    }
    gaps
}
