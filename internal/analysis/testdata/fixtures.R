# Reference fixtures for internal/analysis tests. Run from this directory:
#   Rscript fixtures.R
# Writes the data sets (twoway.csv, regression.csv, mediation.csv) and R's
# results (fixture_results.csv: key,value with 17 significant digits).
# R is never needed at test time; the outputs are committed.
# Uses base R (lm, glm, drop1, anova) and sandwich (vcovHC, vcovCL); the
# sandwich estimators are also recomputed by hand with matrices as a check.
suppressPackageStartupMessages(library(sandwich))
out <- list()
put <- function(key, v) { for (i in seq_along(v)) out[[if (length(v) > 1) paste0(key, ".", i) else key]] <<- v[[i]] }

set.seed(20250601)

## Two-way ANOVA: 3 x 2 design, unbalanced and balanced.
sizes <- c(3, 5, 4, 6, 2, 7)
A <- rep(rep(c("a1", "a2", "a3"), each = 2), sizes)
B <- rep(rep(c("b1", "b2"), 3), sizes)
mu <- c(a1 = 0, a2 = 1, a3 = 2)[A] + c(b1 = 0, b2 = 0.5)[B] + ifelse(A == "a3" & B == "b2", 1, 0)
y <- round(mu + rnorm(length(A)), 4)
unb <- data.frame(design = "unbalanced", A = A, B = B, y = y)
Ab <- rep(rep(c("a1", "a2", "a3"), each = 2), each = 4)
Bb <- rep(rep(c("b1", "b2"), 3), each = 4)
yb <- round(c(a1 = 0, a2 = 1, a3 = 2)[Ab] + c(b1 = 0, b2 = 0.5)[Bb] + rnorm(length(Ab)), 4)
bal <- data.frame(design = "balanced", A = Ab, B = Bb, y = yb)
write.csv(rbind(unb, bal), "twoway.csv", row.names = FALSE, quote = FALSE)

twoway <- function(d, tag) {
  d$A <- factor(d$A); d$B <- factor(d$B)
  full <- lm(y ~ A * B, data = d, contrasts = list(A = "contr.sum", B = "contr.sum"))
  # Type III: drop each term from the full sum-coded model.
  d3 <- drop1(full, . ~ ., test = "F")
  for (term in c("A", "B", "A:B")) {
    put(paste0(tag, ".III.", term, ".SS"), d3[term, "Sum of Sq"])
    put(paste0(tag, ".III.", term, ".F"), d3[term, "F value"])
    put(paste0(tag, ".III.", term, ".p"), d3[term, "Pr(>F)"])
  }
  # Type II by nested model comparison (what car::Anova(type = 2) computes).
  rss <- function(f) deviance(lm(f, data = d))
  res <- deviance(full); dfr <- df.residual(full)
  ss2 <- c(A = rss(y ~ B) - rss(y ~ A + B), B = rss(y ~ A) - rss(y ~ A + B), "A:B" = rss(y ~ A + B) - res)
  dfs <- c(A = 2, B = 1, "A:B" = 2)
  for (term in names(ss2)) {
    F <- (ss2[[term]] / dfs[[term]]) / (res / dfr)
    put(paste0(tag, ".II.", term, ".SS"), ss2[[term]])
    put(paste0(tag, ".II.", term, ".F"), F)
    put(paste0(tag, ".II.", term, ".p"), pf(F, dfs[[term]], dfr, lower.tail = FALSE))
  }
  put(paste0(tag, ".resid.SS"), res)
  put(paste0(tag, ".resid.df"), dfr)
  # Sequential (Type I) table from aov, for the record: equals II/III when balanced.
  a1 <- summary(aov(y ~ A * B, data = d))[[1]]
  put(paste0(tag, ".I.SS"), a1[["Sum Sq"]])
}
twoway(unb, "twoway.unbalanced")
twoway(bal, "twoway.balanced")

## Regression data: 30 clusters of 3..10 observations.
G <- 30
csize <- sample(3:10, G, replace = TRUE)
cl <- rep(seq_len(G), csize)
n <- length(cl)
u <- rnorm(G)[cl]
x1 <- round(rnorm(n) + 0.5 * u, 4)
x2 <- rbinom(n, 1, 0.4)
y <- round(1 + 0.5 * x1 - 0.3 * x2 + u + rnorm(n) * (1 + abs(x1)), 4)
yb <- rbinom(n, 1, plogis(-0.5 + 0.8 * x1 + 0.5 * x2 + 0.5 * u))
reg <- data.frame(y = y, yb = yb, x1 = x1, x2 = x2, cluster = cl)
write.csv(reg, "regression.csv", row.names = FALSE, quote = FALSE)

X <- cbind(1, x1, x2); k <- ncol(X)
ols <- lm(y ~ x1 + x2, data = reg)
s <- summary(ols)
put("ols.coef", coef(ols))
put("ols.se.classical", sqrt(diag(vcov(ols))))
put("ols.p.classical", s$coefficients[, 4])
put("ols.r2", s$r.squared); put("ols.adjr2", s$adj.r.squared); put("ols.sigma", s$sigma)
put("ols.F", s$fstatistic[["value"]])
vhc1 <- vcovHC(ols, type = "HC1")
vcl <- vcovCL(ols, cluster = ~cluster, type = "HC1")
# By hand: CR1 = G/(G-1) (n-1)/(n-k) (X'X)^-1 sum_g X_g'e_g e_g'X_g (X'X)^-1.
e <- resid(ols); bread <- solve(crossprod(X))
S <- rowsum(X * e, cl); vhand <- G / (G - 1) * (n - 1) / (n - k) * bread %*% crossprod(S) %*% bread
stopifnot(isTRUE(all.equal(unname(vcl), unname(vhand), tolerance = 1e-12)))
vhc1hand <- n / (n - k) * bread %*% crossprod(X * e) %*% bread
stopifnot(isTRUE(all.equal(unname(vhc1), unname(vhc1hand), tolerance = 1e-12)))
put("ols.se.hc1", sqrt(diag(vhc1)))
put("ols.se.cluster", sqrt(diag(vcl)))
tcl <- coef(ols) / sqrt(diag(vcl))
put("ols.p.cluster.Gm1", 2 * pt(abs(tcl), G - 1, lower.tail = FALSE))
put("ols.vcov.cluster", vcl[upper.tri(vcl, diag = TRUE)])
# Robust Wald F for x1 = x2 = 0 with the cluster covariance, df (2, G-1).
b <- coef(ols)[2:3]; put("ols.waldF.cluster", drop(t(b) %*% solve(vcl[2:3, 2:3]) %*% b) / 2)

lg <- glm(yb ~ x1 + x2, family = binomial, data = reg, control = glm.control(epsilon = 1e-14, maxit = 100))
put("logit.coef", coef(lg))
put("logit.se.classical", sqrt(diag(vcov(lg))))
put("logit.p.classical", summary(lg)$coefficients[, 4])
put("logit.loglik", as.numeric(logLik(lg)))
put("logit.deviance", deviance(lg)); put("logit.nulldeviance", lg$null.deviance)
lhc1 <- vcovHC(lg, type = "HC1")
lcl <- vcovCL(lg, cluster = ~cluster, type = "HC1")
mu <- fitted(lg); W <- mu * (1 - mu); lbread <- solve(crossprod(X * sqrt(W)))
LS <- rowsum(X * (yb - mu), cl)
lhand <- G / (G - 1) * (n - 1) / (n - k) * lbread %*% crossprod(LS) %*% lbread
stopifnot(isTRUE(all.equal(unname(lcl), unname(lhand), tolerance = 1e-8)))
put("logit.se.hc1", sqrt(diag(lhc1)))
put("logit.se.cluster", sqrt(diag(lcl)))

## Mediation: x -> m -> y with a covariate, 25 clusters of 6.
Gm <- 25; mcl <- rep(seq_len(Gm), each = 6); nm <- length(mcl)
um <- rnorm(Gm)[mcl]
x <- round(rnorm(nm) + 0.5 * um, 4)
cv <- round(rnorm(nm), 4)
m <- round(0.4 * x + 0.2 * cv + 0.5 * um + rnorm(nm), 4)
yy <- round(0.3 * m + 0.2 * x + 0.1 * cv + 0.5 * um + rnorm(nm), 4)
med <- data.frame(x = x, m = m, y = yy, cov = cv, cluster = mcl)
write.csv(med, "mediation.csv", row.names = FALSE, quote = FALSE)
for (withcov in c(FALSE, TRUE)) {
  tag <- if (withcov) "med.cov" else "med"
  fa <- if (withcov) lm(m ~ x + cov, med) else lm(m ~ x, med)
  fb <- if (withcov) lm(y ~ x + m + cov, med) else lm(y ~ x + m, med)
  fc <- if (withcov) lm(y ~ x + cov, med) else lm(y ~ x, med)
  put(paste0(tag, ".a"), coef(fa)[["x"]]); put(paste0(tag, ".b"), coef(fb)[["m"]])
  put(paste0(tag, ".c"), coef(fc)[["x"]]); put(paste0(tag, ".cprime"), coef(fb)[["x"]])
  put(paste0(tag, ".se.a.classical"), sqrt(vcov(fa)["x", "x"]))
  put(paste0(tag, ".se.b.classical"), sqrt(vcov(fb)["m", "m"]))
  put(paste0(tag, ".se.a.cluster"), sqrt(vcovCL(fa, cluster = ~cluster, type = "HC1")["x", "x"]))
  put(paste0(tag, ".se.b.cluster"), sqrt(vcovCL(fb, cluster = ~cluster, type = "HC1")["m", "m"]))
}

keys <- names(out)
vals <- vapply(out, function(v) sprintf("%.17g", v), "")
write.csv(data.frame(key = keys, value = vals), "fixture_results.csv", row.names = FALSE, quote = FALSE)
cat(R.version.string, "sandwich", as.character(packageVersion("sandwich")), "\n")
