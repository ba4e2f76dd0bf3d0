//! Sweep constraints: comparisons between grid parameters and constants, e.g. `fast<slow` or `fast<=50`.

use super::SweepError;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// One side of a comparison: a parameter (by its index in the grid's point) or a constant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Operand {
    Param(usize),
    Const(f64),
}

/// `LHS OP RHS`, each side a grid parameter name or a number.
#[derive(Debug, Clone, PartialEq)]
pub struct Constraint {
    pub lhs: Operand,
    pub op: CmpOp,
    pub rhs: Operand,
}

impl Constraint {
    /// Parses `a<b`, `a <= 5`, `10 > fast`, `fast != slow` ...; `params` are the grid keys.
    pub fn parse(spec: &str, params: &[String]) -> Result<Constraint, SweepError> {
        let bad = |message: String| SweepError::BadConstraint {
            spec: spec.to_string(),
            message,
        };
        // Two-character operators first.
        let ops = [
            ("<=", CmpOp::Le),
            (">=", CmpOp::Ge),
            ("==", CmpOp::Eq),
            ("!=", CmpOp::Ne),
            ("<", CmpOp::Lt),
            (">", CmpOp::Gt),
        ];
        let (pos, text, op) = ops
            .iter()
            .filter_map(|(t, op)| spec.find(t).map(|p| (p, *t, *op)))
            .min_by_key(|(p, t, _)| (*p, std::cmp::Reverse(t.len())))
            .ok_or_else(|| bad("expected A<B, A<=B, A>B, A>=B, A==B or A!=B".into()))?;
        let operand = |side: &str| -> Result<Operand, SweepError> {
            let side = side.trim();
            if let Ok(v) = side.parse::<f64>() {
                if v.is_finite() {
                    return Ok(Operand::Const(v));
                }
            }
            params
                .iter()
                .position(|p| p == side)
                .map(Operand::Param)
                .ok_or_else(|| {
                    bad(format!(
                        "`{side}` is neither a number nor a grid parameter ({})",
                        params.join(", ")
                    ))
                })
        };
        let lhs = operand(&spec[..pos])?;
        let rhs = operand(&spec[pos + text.len()..])?;
        Ok(Constraint { lhs, op, rhs })
    }

    /// True when the point satisfies the constraint.
    pub fn holds(&self, point: &[f64]) -> bool {
        let val = |o: Operand| match o {
            Operand::Param(i) => point[i],
            Operand::Const(v) => v,
        };
        let (a, b) = (val(self.lhs), val(self.rhs));
        match self.op {
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_evaluates_comparisons() {
        let params = vec!["fast".to_string(), "slow".to_string()];
        let c = Constraint::parse("fast<slow", &params).unwrap();
        assert!(c.holds(&[2.0, 3.0]) && !c.holds(&[3.0, 3.0]));
        let c = Constraint::parse(" fast <= 5 ", &params).unwrap();
        assert!(c.holds(&[5.0, 0.0]) && !c.holds(&[6.0, 0.0]));
        let c = Constraint::parse("slow>=fast", &params).unwrap();
        assert!(c.holds(&[3.0, 3.0]));
        let c = Constraint::parse("fast!=slow", &params).unwrap();
        assert!(!c.holds(&[3.0, 3.0]));
        let c = Constraint::parse("10 > fast", &params).unwrap();
        assert!(c.holds(&[9.0, 0.0]));
        assert!(Constraint::parse("fast<>slow", &params).is_err());
        assert!(Constraint::parse("fast<medium", &params).is_err());
        assert!(Constraint::parse("fast slow", &params).is_err());
    }
}
