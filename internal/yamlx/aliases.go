package yamlx

import (
	"github.com/goccy/go-yaml/ast"
)

// expand is node with its aliases (*name) replaced by their anchors' values, anchors (&name)
// by their values, and merge keys (<<: *name) by the keys they merge that the mapping does
// not write itself: a tree whose parts decode on their own, so that every problem of a file
// with aliases is found (errs3 #3; a part that names an anchor outside it does not decode
// alone). It decodes as node does. A problem inside an anchor's value is placed at the anchor,
// once for each field that names it. The parse is not changed: the nodes that change are
// copied; the copies are bounded by MaxExpansion, checked when the file was parsed.
func expand(node ast.Node) ast.Node {
	x := expander{anchors: map[string]ast.Node{}}
	return x.expand(node)
}

type expander struct {
	anchors map[string]ast.Node // anchor name -> its value, expanded
}

func (x *expander) expand(node ast.Node) ast.Node {
	switch n := node.(type) {
	case *ast.AnchorNode:
		v := x.expand(n.Value)
		if n.Name != nil {
			x.anchors[n.Name.GetToken().Value] = v
		}
		return v
	case *ast.AliasNode:
		if n.Value != nil {
			if v, ok := x.anchors[n.Value.GetToken().Value]; ok {
				return v
			}
		}
		return node // an unknown anchor: the decoder's error
	case *ast.TagNode:
		c := *n
		c.Value = x.expand(n.Value)
		return &c
	case *ast.MappingNode:
		return x.mapping(n, n.Values)
	case *ast.MappingValueNode:
		return x.mapping(nil, []*ast.MappingValueNode{n})
	case *ast.SequenceNode:
		c := *n
		c.Values = make([]ast.Node, len(n.Values))
		for i, v := range n.Values {
			c.Values[i] = x.expand(v)
		}
		return &c
	}
	return node
}

// mapping is the mapping m (nil for a mapping of one entry, vs) expanded.
func (x *expander) mapping(m *ast.MappingNode, vs []*ast.MappingValueNode) ast.Node {
	var own, merged []*ast.MappingValueNode
	written := map[string]bool{}
	for _, mv := range vs {
		if _, merge := mv.Key.(*ast.MergeKeyNode); merge {
			v := x.expand(mv.Value)
			parts := []ast.Node{v}
			if seq, ok := v.(*ast.SequenceNode); ok {
				parts = seq.Values
			}
			for _, p := range parts {
				ms := MappingValues(p)
				if ms == nil {
					c := *mv // not a mapping: the decoder's error
					c.Value = v
					own = append(own, &c)
					continue
				}
				merged = append(merged, ms...)
			}
			continue
		}
		c := *mv
		c.Value = x.expand(mv.Value)
		own = append(own, &c)
		written[KeyName(mv.Key)] = true
	}
	var out []*ast.MappingValueNode
	seen := map[string]bool{}
	for _, mv := range merged { // the first mapping merged wins, as the decoder reads it
		if k := KeyName(mv.Key); !written[k] && !seen[k] {
			seen[k] = true
			out = append(out, mv)
		}
	}
	out = append(out, own...)
	if m == nil && len(out) == 1 {
		return out[0]
	}
	if m == nil {
		return ast.Mapping(out[0].GetToken(), false, out...)
	}
	c := *m
	c.Values = out
	return &c
}
