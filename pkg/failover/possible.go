package failover

import "slices"

// Possible answers clstat's "Fail-over?" (L2990, L4732-4740): could the
// application move to the other node now? For one that runs on a node,
// the other node must be up and one of its valid nodes (after a software
// fail-over it is not, so "No", L4734); for one that runs nowhere, both
// nodes must be valid and up. The answer depends on the application and
// the cluster only, never on which node's daemon is asked.
func Possible(node string, valid []string, nodes [2]string, up [2]bool) bool {
	for i, n := range nodes {
		if node == n {
			other := 1 - i
			return up[other] && slices.Contains(valid, nodes[other])
		}
	}
	return up[0] && up[1] && slices.Contains(valid, nodes[0]) && slices.Contains(valid, nodes[1])
}
