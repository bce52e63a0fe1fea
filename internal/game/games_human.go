package game

// Published human figures for the economic games of study: games, each with its source (the
// same targets the behavioural model is calibrated to).
// Shares are of the endowment unless said otherwise.

// HumanDictator: Engel (2011), meta-study of more than 100 experiments (616 treatments).
var HumanDictator = struct {
	MeanShare, GiveNothing, GiveHalf float64
	Source                           string
}{.2835, .3611, .1674, "Engel 2011, meta-study of 616 dictator treatments"}

// HumanUltimatum: Oosterbeek, Sloof & van de Kuilen (2004), 37 papers, 75 results. LowOffer is
// the share of the pie below which offers count as low (about half of them are rejected).
var HumanUltimatum = struct {
	MeanOffer, RejectAll, RejectLow, LowOffer float64
	Source                                    string
}{.40, .16, .50, .20, "Oosterbeek, Sloof & van de Kuilen 2004, 75 ultimatum results"}

// HumanTrust: Johnson & Mislin (2011), 162 replications. Returned is the share of what the
// trustee had available (the multiplied amount sent).
var HumanTrust = struct {
	Sent, Returned float64
	Source         string
}{.509, .365, "Johnson & Mislin 2011, 162 trust game replications"}

// HumanPublicGoods: Fehr & Gächter (2000, 2002). Contributions start near 40-60% of the
// endowment; without punishment they decay towards zero over ten rounds (58.9% contribute
// nothing in the final round), with peer punishment they rise and stay high (38.9% contribute
// everything in the final round); 84.3% of subjects punish at least once. The figures are of
// their design: groups of 4, a marginal per-capita return (multiplier / group size) of 0.4,
// ten rounds with the same partners.
var HumanPublicGoods = struct {
	FirstLo, FirstHi                float64
	LastZeroNoPunish, LastAllPunish float64
	PunishedOnce                    float64
	Source                          string
	GroupSize, Rounds               int
	MPCR                            float64
}{.40, .60, .589, .389, .843, "Fehr & Gächter 2000, 2002", 4, 10, .4}
