package main

import (
	"strings"
	"testing"
)

func TestBackendFlagsSharingALabelAreRefused(t *testing.T) {
	_, err := parseBackendFlags([]string{"openai:m@http://127.0.0.1:1/v1", "openai:m@http://127.0.0.1:2/v1"})
	if err == nil || !strings.Contains(err.Error(), `both labelled "openai:m"`) {
		t.Fatalf("err %v, want the shared label named", err)
	}
	bs, err := parseBackendFlags([]string{"builtin", "openai:m@http://127.0.0.1:1/v1"})
	if err != nil || len(bs) != 2 {
		t.Fatalf("two distinct backends: %v, %d", err, len(bs))
	}
}
