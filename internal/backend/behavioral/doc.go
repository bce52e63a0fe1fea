// Package behavioral is prosim's embedded behavioural model: a behavioural-economics model,
// not an LLM. It is a persona-driven random-utility model (inequity aversion, warm glow, norm
// compliance, conformity, cost sensitivity, reactance) with logit choice noise, calibrated to
// published human data. It is the offline default and a scientific baseline. Its replies are
// labelled Provider "builtin", Model Version ("behavioral-v3"); they cost no calls and no tokens.
//
// It reads only the structured persona and situation (Request.Structured, a
// *situation.Situation), the schema and the seed; never the text. Every random draw of a decision
// comes from rand.New(rand.NewPCG(req.Seed, streamID)), so the same Request gives the same Reply
// whatever the concurrency. A situation it does not model (an unknown game or kind, a missing
// parameter, an unknown policy channel, a schema field it cannot produce or of the wrong kind, a
// choice without the expected option names) is an error wrapping ErrUnsupported, never a
// made-up value. Reply.Raw is compact JSON of the values in the schema's field order, with
// choice fields written as their option text (as a schema-following LLM would reply).
//
// Typed path: the model is also a situation.Typed. Prepare readies one vignette for a whole
// population (the situation's terms and each agent's parameters, spread constants and
// no-shock expectations computed once), and its Rater gives, without a request, reply text or
// values map, bit for bit the values Decide gives (typed_test.go checks both against the
// model as first written, reference_test.go). Study 3's summary store rates through it.
//
// # Persona parameters
//
// Traits (1-5) are standardised on the reference distributions: prosocial traits (EC empathic
// concern, MI moral identity, SR social responsibility, AT altruistic tendency) mean 3 sd .5;
// Big Five A 3.69/.47, C 3.29/.59, N 2.96/.67, O 3.57/.59, E 3.19/.66. A trait of 0 counts as
// the mean. Composites are sum(w z)/sqrt(sum w^2), so each is N(0,1) in the reference population.
//
//	parameter              formula                                     used by
//	altruism  alt          (zEC + zAT + zA)/sqrt3                      vignettes (need), crowding-out, omega
//	inequity aversion ia   .8 zMI + .6 zEC                             TPP iota, responder alpha, unfairness
//	prosociality pro       (zEC+zMI+zSR+zAT+zA)/sqrt5                  FS beta, public-goods cooperation
//	norm compliance norm   (zC + zSR)/sqrt2                            vignettes, enforce compliance
//	conformity conf        .5 logistic(.8 zA - .6 zO)   (0-.5, mean ~.25)  social frame, pull to neighbours
//	reactance react        (zN - zA)/sqrt2                             enforce backlash, baseline unfairness
//	cost sensitivity cs    ln(income Q3 / income of own quintile)       money costs (Q1 +1.25 ... Q5 -1.08)
//	monthly income         AnnualIncome/12 (else quintile table/12)     stipend and fine relative to income
//	noise                  exp(.15 zN)                                 multiplies every rating spread
//	Fehr-Schmidt beta      max(0, Beta0 + BetaS pro)                   dictator, proposer, returner
//	altruism weight omega  Omega0 exp(OmegaS alt)                      dictator, proposer, trust
//	responder alpha        Alpha0 exp(AlphaS ia)                       ultimatum responder, MAO
//	third-party iota       Iota0 exp(IotaS ia)                         TPP, graded TPP, PG punishment
//	game cost weight lam   exp(.25 cs)                                 own money in games (low income: more)
//
// The quintile income table is China's 2023 per-capita disposable income by quintile (NBS):
// 9215, 20442, 32195, 50220, 95055 yuan a year.
//
// # Vignettes (Situation.Kind "vignette")
//
// Fields: "willingness" and, in Study 3, "unfairness", both likert (any range; the model works
// on 1-7 and rescales). Parameters are the scenario's model: block: base (required: the human
// mean with no policy), cost (default .5), money (0/1, default 0), visibility (default .5), need
// (default .5). The latent target is
//
//	T = base + .45 alt (.5+need) + .30 norm + .20 zE visibility - .50 cost money cs + policy
//
// (persona terms are centred, so the population mean with no policy is base) and the rating k
// is drawn with P(k) proportional to exp(-(k-T)^2 / (2 sigma^2)), sigma = 1.05 noise.
//
// Policy channels (s = Strength, 0 = no effect; A = Amount in the population's currency, relative
// to monthly income M):
//
//	moral     warm glow             s (.30 + .25 zMI)(.6 + .4 need)           bigger for high moral identity
//	social    descriptive norm      s (.15 + .45 visibility) conf/.25          bigger when visible, for conformists
//	enforce   expected fine         s (.25 + .80 sev)(1 + .3 norm), sev = (A/M)/(A/M + .25) (.5 if no A)
//	          minus reactance       s .35 exp(.7 react)                        net + for most, - for high reactance
//	economic  price                 s .80 u, u = (A/M)/(A/M + .10) (.3 if no A)  bigger for low income
//	          minus crowding-out    s .30 max(0, alt)(.5 + visibility)         net small +, - for the very altruistic
//
// Documented effects (mean rating change, 1-7, 2,000 reference personas, stipend 100 yuan, fine
// 1000 yuan, with the suggested model: blocks base/cost/money/visibility/need; TestVignettePolicies
// asserts every sign and that the no-policy mean is within .3 of base):
//
//	scenario      base cost money vis need | none  moral social enforce economic | enforce, top-10% reactance | economic, top-10% altruism
//	volunteering  4.2  .6   0     .6  .5   | 4.21  +.22  +.40   +.25    +.12     | -.46 | -.36
//	helping       4.6  .4   0     .3  .6   | 4.59  +.22  +.26   +.23    +.14     | -.51 | -.16
//	donating      4.3  .5   1     .3  .8   | 4.30  +.24  +.25   +.25    +.14     | -.44 | -.19
//	cooperation   5.0  .4   0     .4  .6   | 4.94  +.24  +.30   +.24    +.16     | -.46 | -.19
//	recycling     5.2  .2   0     .4  .2   | 5.17  +.17  +.29   +.20    +.13     | -.52 | -.19
//	sharing       4.0  .5   0     .2  .4   | 4.00  +.24  +.25   +.28    +.17     | -.39 | -.12
//
// Income: donating (money cost) is rated 4.08 by the lowest quintile and 4.55 by the highest;
// the 100-yuan stipend moves the lowest quintile +.34 and the highest about 0.
//
// # Study 3 dynamics (Situation.Social)
//
// Perceived unfairness has a baseline ub = 2.0 + .30 react (+ .60 sev s under an enforce
// frame: a flat mandate that hurts). A shock raises it: 3.0 when TreatedUnfairly (strong), and
// 1.2 (1 - exp(-UnfairObserved/1.5)) for observed unfairly treated neighbours (weaker); the
// shock is scaled by exp(.3 ia). Memory of last round (PrevUnfairness): under a shock the latent
// is anchored asymmetrically (.30 of a shortfall: quick to anger; .85 of an excess: slow to
// forgive); without a shock only a rating more than 1.5 above the expected one is remembered
// (.85 of it). In both cases the anchoring's expectation under the current target is
// subtracted, so that an unchanged situation does not drift. Willingness falls by
// .45 exp(.2 ia) per point of unfairness above ub; social influence (below) pulls it toward
// MeanObserved; it is anchored to PrevWillingness with weight .5 (again relative to the
// expected rating, so no drift).
// Measured (TestStudy3Dynamics, stipend frame, 1,000 personas, 30 rounds; unfair treatment or one
// unfair neighbour of three, rating 4.2 on average, observed from round 2): willingness control
// 4.25 -> 4.23, victim 4.25 -> 2.87, exposed neighbour 4.25 -> 3.83; unfairness control 2.21 ->
// 2.28, victim 2.21 -> 5.04, exposed 2.21 -> 2.86. After a single unfair day, unfairness 4.03,
// 3.32, 2.63, 2.42 on days 2, 3, 5, 8 (control 2.29).
//
// # Social influence (Study 3)
//
// Neighbours' observed willingness pulls an agent's own: the latent willingness moves toward
// MeanObserved (the mean rating of the neighbours it talked with the round before) by
//
//	w (MeanObserved - m),  w = min(.95, Influence conf/.25)
//
// where m is the agent's expected rating before unfairness (what its own situation gives): the
// pull carries what the neighbours do, not the agent's own grievance, so a victim's loss is not
// talked away by content neighbours. The weight grows with conformity (conf 0-.5, mean .25:
// Influence is the weight of an average conformist) and is capped below 1, so nobody moves past
// its neighbours and the pull stays a contraction (no runaway between neighbours). Anchoring to
// PrevWillingness carries half of it into the next round. This is the only path by which a
// change spreads beyond the victims' neighbours (spread_from: victims): with Influence 0 an agent
// two hops from a victim meets exactly its control twin's situation (TestStudy3SpreadByHop).
//
// CALIBRATION TARGET (Fowler & Christakis 2010, PNAS 107:5334, cooperation cascades: .19, .07
// and .06 at one, two and three degrees, their figures put on prosim's own estimand, which is
// not theirs: see "On Fowler & Christakis's own estimand" below): on the original study's graph
// and agents (prosim104) in examples/study3-network.yaml's reward design (5 victims, 30% of
// edges a day, 7 days), the last day's willingness effect (inequity minus control twin) at
// distance d relative to the victims' effect. The fit
// (go test -run TestFit -fit -fitonly social; 200 replicates, seed 1) sets Influence to the
// distance-1 target: Influence 1.30 (the mean weight is then .85). Distances 2 and 3+ are
// NOT reached at any strength (at most about .03 and .005 on the grid 0..1.5): a distance-2 agent
// has on average one or two distance-1 neighbours among six, hears from about two neighbours a
// day, and the mean it is pulled to dilutes their change; the pull can at most pass on that
// share. TestCalibrationSocialSpread (seed 2, 200 replicates) measures, last day: victims -1.65,
// distance 1 -.336, 2 -.051, 3+ -.005, relative .203 / .031 / .003 (target .19 / .07 / .06);
// over days 2-7 (the summary's diff): -1.25, -.174, -.018, -.001. Influence was .25 (v2, set
// by hand: relative .065 / .001 / .000, the spread stopped after one hop).
//
// On Fowler & Christakis's own estimand (held out; not adopted). F&C re-analysed Fehr &
// Gachter's public goods games (Nature 415:137, 2002: groups of four re-matched every period so
// that nobody met twice, each told the others' contributions after the period) and regressed a
// subject's contribution in period t on the MEAN contribution of its degree-d alters in period
// t-d, controlling for the subject's own contribution in t-1: degree 1 its group-mates of t-1,
// degree 2 the people those group-mates played with in t-2, degree 3 the people those played
// with in t-3. .19 / .07 / .06 are per unit of that mean, and a degree-2 set holds nine people,
// so .07 is not ".07 of the source's change" as in the target above. (At hand were the paper's
// abstract and the design as Ed Yong reported it, National Geographic, 8 March 2010, not its
// Methods text: the regression is the paper's as summarised for this project, and whether F&C
// also controlled for the period is not known here, so day fixed effects are shown beside.)
// calibration_fc_test.go computes it on the twin design: the outcome is a non-victim agent's
// twin difference (inequity minus control) in willingness on day t, the regressor the mean twin
// difference on day t-d of its degree-d alters, the control its own difference on day t-1; one
// least-squares regression per degree over agents, days and replicates; 95% CIs from 1,000
// bootstrap resamples of replicates. The alters follow the exposure chain: D1 the neighbours whose day
// t-1 rating it saw on day t (edges active that day), D2 everyone D1 saw on day t-1, D3 everyone
// D2 saw on day t-2, without the agent and nearer degrees. That is F&C's notion (their alters
// were who played with whom in which period, the path a contribution could travel); graph
// distance d would also count agents that passed nothing on. Victims are not focal agents (their
// change is the treatment) but stay in the alters' means as the sources. TestCalibrationSocialFC
// (seed 2, 200 replicates): beta_1 .484 [.471, .496], beta_2 .208 [.192, .225], beta_3 .062
// [.046, .080] against .19 / .07 / .06 (with day fixed effects .485 / .202 / .051; graph
// distance .425 / .181 / .018). So per unit of the mean the model's agents move 2.5 times as
// much as F&C's subjects one degree out and 3 times two degrees out; the third degree matches.
// Influence 1.30 is that strong because the relative target above is diluted (a distance-1 agent
// hears few victims among its neighbours, and the mean it is pulled to dilutes them further).
// Of beta_1, about .07 is the direct "heard of unfairness" channel (Influence 0, seed 1: .073 / .006 /
// -.004). Fitted instead to F&C's beta_1 alone on their estimand (go test -run TestFit -fit
// -fitonly socialfc; grid by .05 then .01, 200 replicates, seed 1): Influence .26 (mean weight
// about .26); held out on seed 2: beta_1 .198 [.186, .209], beta_2 .032 [.024, .041], beta_3
// .002 [-.005, .010], outside 1.5x of .07 and .06, so it was not adopted. No strength reaches
// the three at once (grid 0..1.5, seed 1): beta_1 is within 1.5x of .19 for Influence .15-.45,
// beta_2 of .07 for .40-.55, beta_3 of .06 from .75 up; at .40-.45 beta_3 is about 0. Why: a
// one-step pull toward the mean passes on about beta_1 of a change per degree, so beta_d falls
// roughly as beta_1^d (.19^2 = .036, .19^3 = .007; measured .032 and .002), the geometric decay
// of "Why distances 2 and 3 stay short"; F&C's fall from .07 to .06 is far slower than
// geometric. At high strength beta_2 and beta_3 are also raised by the fixed graph: changes
// cluster around the victims, so an agent's degree-2 and 3 means move with its own nearer
// exposure, a correlation F&C's re-matching did not have.
//
// Why distances 2 and 3 stay short (measured, 200 replicates, seed 1; not adopted): a one-step
// pull decays geometrically. On the relative measure lag-matched like F&C's periods (distance d
// on day 2+d against the victims on day 2), the model gives .117 / .011 / .001 (30% of edges) and .236 / .021 / .004
// (every edge every day, F&C's condition). A change travels one hop a day, so agents three hops
// out first react on day 5 and the 7-day design leaves them three days. Of the part of the
// distance-1 effect that is not influence: .050 at 30% (.180 at 100%) is the direct "heard of
// unfairness" channel (Influence 0). Tried on this design, relative d1 / d2 / d3 at 7 days: a
// persistent perceived norm .167 / .014 / .001; second-hand reports of the round before
// .151 / .028 / .004 (30%) and .269 / .051 / .011 (100%); salience-weighted neighbours .217 /
// .034 / .005; discounting neighbours known to be victims .268 / .048 / .006 (100%); own-rating
// carry-over .5 -> 0 .240 / .058 / .017; all edges every day .356 / .056 / .006. Longer
// horizons approach the targets (30% of edges, 30 days: .290 / .094 / .039), as does a stack
// of same-day hearsay, discounting and no carry-over (.29-.31 / .07-.08 / .040-.045, seeds 1-3),
// which was judged an overfit (four mechanisms no source motivates, new prompt text for LLMs).
//
// # Games (Situation.Kind "game", Situation.Scenario the game id)
//
// Shares s are chosen by logit (temperature TauD) over 11 shares 0, .1, ..., 1 of the pie;
// interior shares are spread uniformly within their decile before rounding, so focal points 0,
// half and all keep their mass. Amounts are then fitted to the field's range and step.
//
//	tpp                 x, y, pie (30), judge (10) -> valence_before (-4..4), arousal_before (1..9),
//	                    choice [accept, punish] (found by name), valence_after, arousal_after.
//	                    P(punish) = L + (1-L) logistic(iota g - CostW lam y' + B0), g = (6e)^Rho with
//	                    inequity share e = (pie/2 - x)/pie, y' = 10 y/judge, L = Lapse0 exp(-Lapse1 y')
//	                    (punishment of fair offers, ~10% in humans). Valence before follows the human
//	                    curve by x (game.HumanTPP; x = 15 extrapolated to +8/100), scaled by exp(.4 ia),
//	                    /25 to the -4..4 scale; arousal 3 + 2 g exp(.4 ia). After: punishing gives
//	                    +.5 g (relief) - .04 y', accepting -.4 g; arousal +.2 / -.3 (heuristic, uncalibrated).
//	tpp_graded          transfer, endowment (50), ratio (3), pie (100) -> points. Punishes with
//	                    L' + (1-L') logistic(iota g - CostG lam + B0); a punisher removes Phi0 exp(.3 ia)/lam
//	                    of the dictator's advantage (pie - 2 transfer)/ratio points (lognormal noise .35).
//	dictator            endowment -> give. U(s) = lam(1-s) + omega s - beta max(0,1-2s) - AlphaD max(0,2s-1).
//	ultimatum_proposer  endowment -> offer. U(s) = Pacc(s) U_dictator(s), Pacc = logistic((s-AccMid)/AccSlope).
//	ultimatum_responder endowment, offer -> choice [accept, reject]: P(reject) = logistic(-(lam s - alpha max(0,1-2s))/TauR).
//	ultimatum_mao       endowment -> min_accept: the smallest amount accepted under one logistic draw of the same noise.
//	trust_sender        endowment, multiplier m -> send. U(s) = lam(1 - s + m rho s) + omega m s (1-rho) - Eta0 s^2,
//	                    rho = Rho0 + .1 zA (believed share returned).
//	trust_returner      endowment E, multiplier m, sent -> return (of R = sent m). Fehr-Schmidt over
//	                    own R(1-r) and the sender's E - sent + rR, altruism omega + Gamma sent/E (reciprocity:
//	                    more weight the more was entrusted), minus kappa max(0, sent - rR) with
//	                    kappa = Kappa exp(.5 pro) (repayment: reluctance to leave a trusting sender with a loss).
//	public_goods        endowment, multiplier, group_size, round, rounds, punishment, others_prev,
//	                    own_prev, punished_prev -> contribute. Conditional cooperation: slope cc = logistic(CC0 + CCS pro);
//	                    round 1 target b(.4 + .6 cc) + First0 with belief b = .5 + .1 zA + .1 alt; later rounds
//	                    without punishment cc b - FreeRide (1-cc) lam with b = others_prev/E (imperfect conditional
//	                    cooperation, Fischbacher & Gachter 2010: the less conditionally cooperative and the more
//	                    cost sensitive aim below the others; a target below 0 is mostly a contribution of 0); with
//	                    punishment b(cc + Fear(1-cc)) + Push + Hit punished_prev (fear of punishment; round 1 + Push);
//	                    Inertia to own_prev;
//	                    contribution drawn around the target on the 11 shares (Gaussian weights, sd SigmaPG).
//	public_goods_punish endowment, own, target, ratio -> points (0-10): P = logistic(PunA exp(IotaS ia) dev + PunB) for
//	                    dev = (own - target)/E > 0 (PunLapse otherwise); points 1 + 12 dev exp(.3 ia) 3/ratio, lognormal .4.
//
// # Provenance of the constants
//
// Every number of the model is one of four kinds; the scorecard (internal/scorecard,
// results/scorecard.csv, column human_fitted) marks the human figures of the first kind, so a
// builtin value compared with them is read as in-sample fit, never as validation.
//
//   - Fitted: the game constants in games.go (gameConsts), fitted by TestFit to the human targets
//     listed under Calibration below (TPP rates by x and by y and the fair-offer means; the
//     dictator distribution by decile and mean; ultimatum offer and rejections; trust sent and
//     returned; graded TPP; public goods final-round shares and punishing once). The
//     calibration tests check these same figures: they are fit checks, not validation.
//   - Held out: figures no constant was fitted to, the only honest comparisons: the dictator
//     shares giving nothing (36.11%) and exactly half (16.74%) as Engel reports them (the 0% and
//     50% deciles, .31 and .21, are targets, so these are near-in-sample), the TPP valence after
//     the choice, and every Study 1 and Study 3 figure against any human study.
//   - Assumed (hand-set, no published source): the vignette weights and policy-channel
//     constants of vignette.go (vAlt, vNorm, ..., the moral/social/enforce/economic channels),
//     the Study 3 unfairness dynamics, the persona composites' weights, the public-goods
//     heuristics named below, the arousal rules, and every scenario's model: block (base, cost,
//     money, visibility, need): base is a plausible mean willingness set by hand, not a measured
//     "typical human mean". Study 1's levels and policy effects on the builtin therefore show
//     what these assumptions imply, not human behaviour.
//   - Input: the TPP valence before the choice is the human curve by x (tpp.go humanValence),
//     inserted as the model's latent; its agreement with humans is by construction.
//
// # Calibration
//
// The targets, with their sources, are in calibration_test.go and internal/game/games_human.go
// (and internal/game/tpp_human.go, HumanTPP): TPP punishment by x and by y (HumanTPP);
// dictator giving (Engel 2011, meta-study of 616 treatments: mean .2835 and the distribution by
// decile); ultimatum mean offer .40, 16% of offers rejected, offers below 20% of the pie rejected
// about half the time (Oosterbeek, Sloof & van de Kuilen 2004); trust: .509 of the endowment sent,
// .365 of the amount received returned (Johnson & Mislin 2011); graded TPP (Fehr & Fischbacher
// 2004); public goods: round 1 at 40-60% of the endowment, 58.9% contributing nothing in the final
// round without punishment, 38.9% contributing everything with punishment, 84.3% punishing at
// least once (Fehr & Gachter 2000, 2002).
//
// The global constants (fitted, in games.go) are fitted by coordinate search
// (go test -run TestFit -fit [-fitonly tpp|games|dictator|ultimatum|trust|graded|pg]): the TPP on
// expected statistics over 1,000 personas of the reference distributions; the other games over
// 4,000 personas of the engine's own population sampler (persona.Sample, as population: {source:
// sample} draws them), with the measures of the games summary (internal/report): an ultimatum
// offer below 20% is an offer (as proposers make it, the share spread within its decile and
// rounded, endowment 100) below 20% of the pie, met by a responder of the population; the share
// returned is the mean over returners of return / (3 x sent) (endowment 10); the public goods
// figures come from seeded simulations of the library's game (groups of 4, endowment 20, ratio 3,
// 10 rounds, the parameters internal/game.PGGame sends). Constraints: OmegaS <= 1.2 so that giving
// everything does not hinge on a few extreme personas; AlphaD >= Beta0; Gamma kept at .485 (v1's
// fit) because one returner target cannot fix both it and Kappa; CC0, CCS, First0, Fear, Push, Hit,
// Inertia, PunA (heuristics) and PunLapse .005 (punishment of members who gave as much or more:
// rare in Western samples) set by hand.
//
// The tests then play the games through Decide on other seeded populations, and
// TestCalibrationGamesRun plays examples/games.yaml's games through the engine (3,000 agents for
// the one-shot games, 400 for public goods) and checks the games summary's figures:
//
//	TPP punishment by x (y pooled; model/human): 10 .597/.571, 11 .523/.519, 12 .430/.437,
//	  13 .315/.322, 14 .190/.154; fair x=15 .095 (human .122 low cost, .079 high cost).
//	TPP by y (x<15 pooled): 0 .708/.713, 1 .618/.601, 2 .539/.532, 3 .463/.438, 4 .406/.377,
//	  5 .343/.380, 6 .307/.311, 7 .275/.241, 8 .239/.219, 9 .210/.192 (the human plateau at y=4-5 is
//	  a block effect a stateless model cannot produce). Fit loss (sum of squares, 17 targets) .005.
//	TPP valence before (-4..4) by x: 10 -.41 (human -.34), 12 -.23 (-.19), 14 +.13 (+.14).
//	Figures below: expected over the fit population / Decide on 1,500 other sampled personas
//	  (800 for public goods) / through the engine (TestCalibrationGamesRun); human in brackets.
//	Dictator (endowment 100): mean share .292/.292/.305 (.2835); at 0 .315/.303 (.31; 36.11% over
//	  all treatments), half .214/.232 (.21; 16.74%), all .059/.046 (.07).
//	Ultimatum (100): mean offer .400/.399/.400 (.40); offers rejected .160/.157/.163 (.16); offers
//	  below 20% rejected .500/.529/.491 (about .5); offers of 40-50% rejected .007/.010; mean
//	  minimum acceptable offer .18.
//	Trust (10, x3): sent .509/.510/.532 (.509); mean share returned .365/.366/.382 (.365); total
//	  returned / total received .44 (returns grow with the amount sent).
//	Graded TPP: share punishing transfers below half .608/.613 (~.60); mean points at transfer 0, 10,
//	  20, 30, 40: 15.2, 11.3, 7.8, 4.3, 1.2 (human ~.28(50 - t): 14.0, 11.2, 8.4, 5.6, 2.8).
//	Public goods (groups of 4, endowment 20, multiplier 1.6, 10 rounds): mean share by round
//	  without punishment .46 .30 .20 .14 .10 .08 .07 .06 .06 .06 (the human decline is more gradual;
//	  its shape is not fitted), round 10 nothing .591/.529/.598 (.589); with punishment .54 .66 .72
//	  .78 .81 .84 .86 .87 .89 .90, round 10 everything .399/.372/.465 (.389), punished at least once
//	  .840/.825/.838 (.843).
//
// Fitted constants (v2): Beta0 .3293, BetaS .1192, Omega0 .3086, OmegaS 1.200, AlphaD .3293,
// TauD .04082, Alpha0 .2244, AlphaS .8077, TauR .08386, AccMid .06339, AccSlope .0340, Eta0 .7723,
// Rho0 .365 (fixed at the human figure), Gamma .4849 (kept), Kappa .8617, CostG 5.641, Phi0 .4730,
// FreeRide .2434, SigmaPG .1006, PunB -3.081; TPP (unchanged since v1): Iota0 6.523, IotaS .811,
// Rho .9188, CostW .8117, B0 -2.395, Lapse0 .1054, Lapse1 .0654; set by hand: KGame .25, CC0 .9,
// CCS 1, First0 .05, Fear .85, Push .08, Hit .04, Inertia .3, PunA 8, PunLapse .005. v1 fitted the
// games on 4,000 personas of the reference distributions with the share returned as total/total
// and rejection of offers of exactly 10% and 20%; there the model's figures matched, but in the
// games summary of a run the share returned was .29 (mean over returners), and public goods had
// 25% contributing nothing in round 10 and 94% punishing at least once (heuristics, not fitted).
// The vignette and Study 3 constants (vignette.go) are set by hand to the documented directions
// and sizes, except Study 3's social influence (fitted, see "Social influence").
//
// Cost: one Study 3 decision (willingness and unfairness with social state) takes about 1.7 µs
// and 4 allocations (the Values map, Raw) on the reference machine (BenchmarkDecideVignette).
package behavioral
