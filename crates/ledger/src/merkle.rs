//! The Merkle-tree hash of RFC 9162 (section 2.1): leaf `SHA-256(0x00 || d)`, node
//! `SHA-256(0x01 || left || right)`, with inclusion and consistency proofs and their
//! verification. Functions here work on leaf hashes held in memory and do no I/O.

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The hash of a leaf holding `data`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// The hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: the hash of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The largest power of two strictly smaller than `n` (n >= 2).
fn split(n: usize) -> usize {
    debug_assert!(n >= 2);
    1usize << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// MTH over leaf hashes (RFC 9162 2.1.1).
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The audit path of leaf `index` in the tree of `leaves` (RFC 9162 2.1.3.1), leaf-side first.
pub fn inclusion_proof(index: usize, leaves: &[Hash]) -> Option<Vec<Hash>> {
    if index >= leaves.len() {
        return None;
    }
    let mut out = Vec::new();
    path(index, leaves, &mut out);
    Some(out)
}

fn path(m: usize, leaves: &[Hash], out: &mut Vec<Hash>) {
    let n = leaves.len();
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path(m, &leaves[..k], out);
        out.push(root(&leaves[k..]));
    } else {
        path(m - k, &leaves[k..], out);
        out.push(root(&leaves[..k]));
    }
}

/// The consistency proof between the first `old_size` leaves and all of `leaves`
/// (RFC 9162 2.1.4.1). `None` if `old_size` is 0 or larger than the tree.
pub fn consistency_proof(old_size: usize, leaves: &[Hash]) -> Option<Vec<Hash>> {
    if old_size == 0 || old_size > leaves.len() {
        return None;
    }
    let mut out = Vec::new();
    subproof(old_size, leaves, true, &mut out);
    Some(out)
}

fn subproof(m: usize, leaves: &[Hash], complete: bool, out: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !complete {
            out.push(root(leaves));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, &leaves[..k], complete, out);
        out.push(root(&leaves[k..]));
    } else {
        subproof(m - k, &leaves[k..], false, out);
        out.push(root(&leaves[..k]));
    }
}

/// Verifies an inclusion proof (RFC 9162 2.1.3.2).
pub fn verify_inclusion(index: u64, tree_size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= tree_size {
        return false;
    }
    let (mut fnode, mut snode) = (index, tree_size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && r == *root
}

/// Verifies a consistency proof (RFC 9162 2.1.4.2).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old_size > new_size || old_size == 0 {
        return false;
    }
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    let mut proof: Vec<Hash> = proof.to_vec();
    if old_size.is_power_of_two() {
        proof.insert(0, *old_root);
    }
    let Some((first, rest)) = proof.split_first() else {
        return false;
    };
    let (mut fnode, mut snode) = (old_size - 1, new_size - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    fr == *old_root && sr == *new_root && snode == 0
}

/// The right edge of a growing tree: the roots of its perfect subtrees, largest first.
/// Appending is O(log n) hashes and the root needs no access to earlier leaves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// (height, hash) of each perfect subtree, from the left.
    nodes: Vec<(u32, Hash)>,
}

impl Frontier {
    /// An empty tree.
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// Leaves pushed.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adds a leaf.
    pub fn push(&mut self, leaf: Hash) {
        let mut h = leaf;
        let mut height = 0u32;
        while let Some(&(top_height, top)) = self.nodes.last() {
            if top_height != height {
                break;
            }
            self.nodes.pop();
            h = node_hash(&top, &h);
            height += 1;
        }
        self.nodes.push((height, h));
        self.size += 1;
    }

    /// The tree head of everything pushed so far.
    pub fn root(&self) -> Hash {
        let mut it = self.nodes.iter().rev();
        let Some(&(_, mut acc)) = it.next() else {
            return empty_root();
        };
        for (_, left) in it {
            acc = node_hash(left, &acc);
        }
        acc
    }

    /// The right edge: the roots of the perfect subtrees, by height.
    pub fn nodes(&self) -> &[(u32, Hash)] {
        &self.nodes
    }

    /// Rebuilds a frontier from a checkpoint, refusing one whose heights do not add up to `size`.
    pub fn from_parts(size: u64, nodes: Vec<(u32, Hash)>) -> Option<Frontier> {
        let total: u64 = nodes.iter().map(|(h, _)| 1u64.checked_shl(*h).unwrap_or(0)).sum();
        let decreasing = nodes.windows(2).all(|w| w[0].0 > w[1].0);
        (total == size && decreasing).then_some(Frontier { size, nodes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The leaves and roots of the RFC 6962 reference test vectors (certificate-transparency
    /// merkle_test), as published; our code must reproduce them.
    fn reference_leaves() -> Vec<Vec<u8>> {
        vec![
            vec![],
            vec![0x00],
            vec![0x10],
            vec![0x20, 0x21],
            vec![0x30, 0x31],
            vec![0x40, 0x41, 0x42, 0x43],
            vec![0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
            (0x60..=0x6f).collect(),
        ]
    }

    const REFERENCE_ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    fn leaves() -> Vec<Hash> {
        reference_leaves().iter().map(|d| leaf_hash(d)).collect()
    }

    #[test]
    fn reproduces_rfc6962_reference_roots() {
        let l = leaves();
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        for (n, want) in REFERENCE_ROOTS.iter().enumerate() {
            assert_eq!(hex::encode(root(&l[..n + 1])), *want, "size {}", n + 1);
            let mut f = Frontier::new();
            l[..n + 1].iter().for_each(|h| f.push(*h));
            assert_eq!(hex::encode(f.root()), *want, "frontier size {}", n + 1);
        }
    }

    #[test]
    fn reproduces_rfc6962_reference_proofs() {
        let l = leaves();
        // Inclusion of leaf 0 in a tree of 8 (reference path).
        let p = inclusion_proof(0, &l).expect("proof");
        let want = [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ];
        assert_eq!(p.iter().map(hex::encode).collect::<Vec<_>>(), want);
        // Consistency 1 -> 8 and 6 -> 8 (reference proofs).
        let c = consistency_proof(1, &l).expect("proof");
        assert_eq!(c.iter().map(hex::encode).collect::<Vec<_>>(), want);
        let c = consistency_proof(6, &l).expect("proof");
        assert_eq!(
            c.iter().map(hex::encode).collect::<Vec<_>>(),
            [
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn proofs_verify_and_detect_changes(n in 1usize..70, seed in 0u64..1000) {
            let l: Vec<Hash> = (0..n).map(|i| leaf_hash(&(seed * 1000 + i as u64).to_le_bytes())).collect();
            let r = root(&l);
            let mut f = Frontier::new();
            l.iter().for_each(|h| f.push(*h));
            proptest::prop_assert_eq!(f.root(), r);
            for i in 0..n {
                let p = inclusion_proof(i, &l).expect("proof");
                proptest::prop_assert!(verify_inclusion(i as u64, n as u64, &l[i], &p, &r));
                proptest::prop_assert!(!verify_inclusion(i as u64, n as u64, &leaf_hash(b"other"), &p, &r));
            }
            for m in 1..=n {
                let p = consistency_proof(m, &l).expect("proof");
                let old = root(&l[..m]);
                proptest::prop_assert!(verify_consistency(m as u64, n as u64, &old, &r, &p));
                if m < n {
                    let mut bad = old;
                    bad[0] ^= 1;
                    proptest::prop_assert!(!verify_consistency(m as u64, n as u64, &bad, &r, &p));
                }
            }
        }
    }
}
