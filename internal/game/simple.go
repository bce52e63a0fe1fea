package game

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// DictatorPayoff: the dictator gives give out of endowment to a passive recipient.
// endowment must be positive and give in 0..endowment.
func DictatorPayoff(endowment, give float64) (dictator, recipient float64, err error) {
	if err := DictatorCheck(endowment, give); err != nil {
		return 0, 0, err
	}
	return endowment - give, give, nil
}

// DictatorCheck validates a dictator decision.
func DictatorCheck(endowment, give float64) error {
	if err := positive("dictator: endowment", endowment); err != nil {
		return err
	}
	return inRange("dictator: give", give, 0, endowment)
}

// UltimatumPayoff: the proposer offers offer out of endowment; if the responder accepts, the
// proposer gets endowment-offer and the responder offer, otherwise both get 0.
func UltimatumPayoff(endowment, offer float64, accept bool) (proposer, responder float64, err error) {
	if err := UltimatumCheck(endowment, offer); err != nil {
		return 0, 0, err
	}
	if !accept {
		return 0, 0, nil
	}
	return endowment - offer, offer, nil
}

// UltimatumCheck validates a proposer's offer: endowment positive, offer in 0..endowment.
func UltimatumCheck(endowment, offer float64) error {
	if err := positive("ultimatum: endowment", endowment); err != nil {
		return err
	}
	return inRange("ultimatum: offer", offer, 0, endowment)
}

// MAOCheck validates a responder's minimum acceptable offer: 0..endowment.
func MAOCheck(endowment, minAccept float64) error {
	if err := positive("ultimatum: endowment", endowment); err != nil {
		return err
	}
	return inRange("ultimatum: min_accept", minAccept, 0, endowment)
}

// UltimatumMAOPayoff is the ultimatum game played by the strategy method: the responder stated
// a minimum acceptable offer in advance, and offers at or above it are accepted.
func UltimatumMAOPayoff(endowment, offer, minAccept float64) (accepted bool, proposer, responder float64, err error) {
	if err := UltimatumCheck(endowment, offer); err != nil {
		return false, 0, 0, err
	}
	if err := MAOCheck(endowment, minAccept); err != nil {
		return false, 0, 0, err
	}
	accepted = offer >= minAccept
	proposer, responder, _ = UltimatumPayoff(endowment, offer, accepted)
	return accepted, proposer, responder, nil
}

// TrustPayoff: the sender sends sent out of endowment; the trustee receives multiplier x sent
// and returns returned of that. The sender ends with endowment-sent+returned, the trustee with
// multiplier x sent - returned. The trustee has no endowment of its own in this design (the
// trust_returner scenario says so). Checks: endowment positive, multiplier >= 1, sent in
// 0..endowment, returned in 0..multiplier x sent.
func TrustPayoff(endowment, multiplier, sent, returned float64) (sender, trustee float64, err error) {
	if err := TrustSendCheck(endowment, multiplier, sent); err != nil {
		return 0, 0, err
	}
	if err := TrustReturnCheck(sent, multiplier, returned); err != nil {
		return 0, 0, err
	}
	return endowment - sent + returned, multiplier*sent - returned, nil
}

// TrustSendCheck validates the sender's decision.
func TrustSendCheck(endowment, multiplier, sent float64) error {
	if err := positive("trust: endowment", endowment); err != nil {
		return err
	}
	if err := finite("trust: multiplier", multiplier); err != nil {
		return err
	}
	if multiplier < 1 {
		return fmt.Errorf("trust: multiplier %g must be at least 1", multiplier)
	}
	return inRange("trust: send", sent, 0, endowment)
}

// TrustReturnCheck validates the trustee's decision: returned in 0..ReturnSchemaMax(sent, multiplier).
func TrustReturnCheck(sent, multiplier, returned float64) error {
	if err := finite("trust: sent", sent); err != nil {
		return err
	}
	return inRange("trust: return", returned, 0, ReturnSchemaMax(sent, multiplier))
}

// ReturnSchemaMax is the largest amount the trustee can return: multiplier x sent, what it
// received. The trust_returner scenario's "return" field has a placeholder max (15, for its
// default parameters: 5 sent at multiplier 3); the driver must set the field's Max to
// ReturnSchemaMax(sent, multiplier) on every request, before rendering the instructions and
// validating the reply.
//
// When sent is 0 this is 0 and there is nothing to decide (a schema needs min < max): the driver
// must not ask the trustee and records a return of 0 by rule, not as a decision.
func ReturnSchemaMax(sent, multiplier float64) float64 {
	if sent <= 0 || multiplier <= 0 {
		return 0
	}
	return sent * multiplier
}

// Pair matches agents at random (from seed) for a two-player game (ultimatum, trust): in each
// pair the first agent is the first mover (proposer, sender), the second the responder or
// trustee. With an odd number of agents one agent, drawn at random, is left unpaired and plays
// no part in that game (it is returned so the caller can record it, not silently dropped).
func Pair(agents []int, seed uint64) (pairs [][2]int, unpaired []int) {
	perm := slices.Clone(agents)
	r := rand.New(rand.NewPCG(seed, streamPairs))
	r.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	for i := 0; i+1 < len(perm); i += 2 {
		pairs = append(pairs, [2]int{perm[i], perm[i+1]})
	}
	if len(perm)%2 == 1 {
		unpaired = []int{perm[len(perm)-1]}
	}
	return pairs, unpaired
}
