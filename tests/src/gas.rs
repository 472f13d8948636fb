//! Gas arithmetic for measurements: what part of a transaction's gas is execution.

/// Intrinsic gas of every transaction (no contract creation, no access list).
pub const TX_INTRINSIC_GAS: u64 = 21_000;

/// Calldata gas under EIP-2028: 16 per nonzero byte, 4 per zero byte.
///
/// (EIP-7623's floor price only applies when it exceeds the standard cost, which it
/// does not for the execution-heavy calls measured here.)
pub fn calldata_gas(data: &[u8]) -> u64 {
    data.iter().map(|&b| if b == 0 { 4 } else { 16 }).sum()
}

/// Execution gas of a call whose `eth_estimateGas` was `estimate`: the estimate minus
/// the 21,000 intrinsic gas and the calldata cost. Saturates at 0.
pub fn execution_gas(estimate: u64, calldata: &[u8]) -> u64 {
    estimate
        .saturating_sub(TX_INTRINSIC_GAS)
        .saturating_sub(calldata_gas(calldata))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calldata_pricing() {
        assert_eq!(calldata_gas(&[0, 1, 0, 0xff]), 4 + 16 + 4 + 16);
        assert_eq!(execution_gas(21_000 + 40 + 100, &[0, 1, 0, 0xff]), 100);
        assert_eq!(execution_gas(10, &[1]), 0);
    }
}
