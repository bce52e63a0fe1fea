// Package analysis provides the statistics prosim reports: descriptives,
// bootstrap intervals, ANOVA, OLS and logistic regression with robust and
// cluster-robust standard errors, and mediation. It depends only on gonum.
// The formulae below are the ones to cite.
//
// Descriptives. SD uses n-1. MeanCI is mean ± t_{(1+level)/2, n-1}·SD/√n.
// Percentile intervals (all bootstraps, Monte Carlo) use R's default type-7
// quantiles. BootstrapMeanCIClustered resamples whole clusters with
// replacement. ExpandedBootstrapMeanCI reads the percentile interval at
// Hesterberg's (2015) expanded level 1-α' with z_{α'/2} = sqrt(n/(n-1))·t_{α/2,n-1};
// ClusterBootstrapShareCI is the same for a pooled share Σk/Σn resampling
// clusters (n = clusters). ProportionCI is the Wilson score interval without
// continuity correction (R prop.test(correct = FALSE)). DistanceCI is the basic
// bootstrap interval (Davison & Hinkley 1997, eq. 5.6) of a plug-in distance on the squared
// scale, sqrt(max(0, 2·est² - q)) at the quantiles q of the squared draws, its value the same
// at their median. Random draws use math/rand/v2 PCG seeded from the caller's seed
// only: same seed, same result.
//
// ANOVA. OneWay: SS between/within from two-pass group means; eta² = SSB/SST,
// omega² = (SSB - df_B·MSW)/(SST + MSW). TwoWay (A, B, A:B, every cell
// non-empty): sums of squares by comparison of QR least-squares fits with
// sum-to-zero coding, either Type III (each term adjusted for all others,
// SPSS/SAS default, R drop1 on a contr.sum model) or Type II (main effects
// adjusted for each other, not for the interaction; car::Anova default).
// Both coincide with sequential SS in balanced designs. Effect sizes: eta² =
// SS/SST, partial eta² = SS/(SS+SSE), omega² = (SS - df·MSE)/(SST + MSE),
// partial omega² = df(F-1)/(df(F-1)+N).
//
// OLS. Householder QR of the column-equilibrated design with one step of
// iterative refinement (NIST Longley: 11+ correct digits). Covariances:
// Classical s²(X'X)^-1; HC1 n/(n-k)·(X'X)^-1 Σ e_i² x_i x_i' (X'X)^-1
// (sandwich::vcovHC type "HC1", Stata robust); Cluster CR1
// G/(G-1)·(n-1)/(n-k)·(X'X)^-1 Σ_g X_g'e_g e_g'X_g (X'X)^-1
// (sandwich::vcovCL type "HC1", Stata vce(cluster)). t tests use n-k df, or
// G-1 df with Cluster (Stata). R² is centred with an intercept and
// uncentred without (as R). Fit.F is the classical overall F; Fit.WaldF tests
// the same hypothesis with the chosen covariance.
//
// Logistic regression. Newton-Raphson/IRLS from b = 0 with step halving,
// converged when |ΔD|/(|D|+0.1) < 1e-10 (D the deviance). Classical
// covariance (X'WX)^-1; HC1 and CR1 sandwiches with scores x_i(y_i - p_i) and
// the same factors as for OLS (sandwich::vcovHC/vcovCL type "HC1" on a glm).
// Wald z tests and CIs. Convergence also needs the last Newton step to move
// every x'b by < 1e-3; under separation steps stay near 1, so a fit that does
// not converge with some fitted |x'b| > 15 (or a constant outcome) returns
// ErrSeparation instead of meaningless estimates.
//
// Mediation (X → M → Y, optional covariates in every equation). a: M ~ X;
// b, c': Y ~ X + M; c: Y ~ X; indirect a·b (= c - c' for OLS). CIs for a·b:
// percentile bootstrap resampling clusters (or observations); Monte Carlo
// with a, b drawn independently from N(â, SE²) using CR1 SEs when clustered,
// classical otherwise; Sobel z as a secondary test.
//
// Tests compare against NIST StRD certified values (SiRstv, Longley) and
// against R 4.2.2 (lm, glm, drop1, sandwich 3.0.2) fixtures produced by
// testdata/fixtures.R and committed with their outputs.
package analysis
