package backend

import (
	"context"
	"sync"
	"testing"
)

func TestBalanceRoundRobinWhenIdle(t *testing.T) {
	counts := make([]int, 3)
	var eps []Backend
	for i := range counts {
		eps = append(eps, Func(func(ctx context.Context, r Request) (Reply, error) { counts[i]++; return Reply{}, nil }))
	}
	b := Balance(eps)
	for range 7 {
		b.Decide(context.Background(), testReq("p", 0))
	}
	if counts[0] != 3 || counts[1] != 2 || counts[2] != 2 {
		t.Fatalf("counts %v, want [3 2 2]", counts)
	}
}

func TestBalanceAvoidsBusyEndpoint(t *testing.T) {
	var mu sync.Mutex
	counts := make([]int, 3)
	entered := make(chan int, 1)
	release := make(chan struct{})
	var eps []Backend
	for i := range counts {
		eps = append(eps, Func(func(ctx context.Context, r Request) (Reply, error) {
			mu.Lock()
			counts[i]++
			mu.Unlock()
			if r.AgentID == 1 { // the slow request
				entered <- i
				<-release
			}
			return Reply{}, nil
		}))
	}
	b := Balance(eps)
	done := make(chan struct{})
	slow := testReq("slow", 0)
	slow.AgentID = 1
	go func() { b.Decide(context.Background(), slow); close(done) }()
	busy := <-entered
	for range 6 {
		b.Decide(context.Background(), testReq("fast", 0))
	}
	close(release)
	<-done
	for i, c := range counts {
		want := 3
		if i == busy {
			want = 1
		}
		if c != want {
			t.Fatalf("counts %v with endpoint %d busy; want the 6 fast requests on the other two", counts, busy)
		}
	}
}

func TestBalanceNoEndpoints(t *testing.T) {
	if _, err := Balance(nil).Decide(context.Background(), testReq("p", 0)); err == nil {
		t.Fatal("want an error")
	}
}
