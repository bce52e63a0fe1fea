# Fixture for TestSharesMatchRFixture (sensitivity_test.go). Run from this directory:
#   Rscript shares.R
# Writes shares_data.csv (ratings 1-7 of a policy x wording design, unbalanced: some cells
# lose ratings, as invalid replies do) and shares_r.csv (eta squared = SS_term / SS_total of
# the Type II ANOVA rating ~ policy * wording, and the F-test p, computed with base R:
# Type II SS from nested lm fits, SS(policy | wording), SS(wording | policy),
# SS(policy:wording | both)). R is never needed at test time; both outputs are committed.
set.seed(20261202)
policy <- rep(c("none", "moral", "social"), each = 60)
wording <- rep(rep(c("original", "p1", "p2"), each = 20), 3)
mu <- 4 + c(none = 0, moral = 0.6, social = 0.3)[policy] + c(original = 0, p1 = 0.2, p2 = -0.3)[wording] +
  ifelse(policy == "moral" & wording == "p2", 0.5, 0)
y <- pmin(7, pmax(1, round(mu + rnorm(length(mu), sd = 1.3))))
keep <- runif(length(y)) > 0.15
d <- data.frame(policy = policy[keep], wording = wording[keep], rating = y[keep])
write.csv(d, "shares_data.csv", row.names = FALSE, quote = FALSE)
d$policy <- factor(d$policy); d$wording <- factor(d$wording)
rss <- function(f) sum(resid(lm(f, data = d))^2)
sst <- sum((d$rating - mean(d$rating))^2)
full <- lm(rating ~ policy * wording, data = d)
df_res <- df.residual(full); ms_res <- sum(resid(full)^2) / df_res
ss <- c(policy = rss(rating ~ wording) - rss(rating ~ policy + wording),
        factor = rss(rating ~ policy) - rss(rating ~ policy + wording),
        "policy:factor" = rss(rating ~ policy + wording) - sum(resid(full)^2))
dfs <- c(policy = 2, factor = 2, "policy:factor" = 4)
p <- pf((ss / dfs) / ms_res, dfs, df_res, lower.tail = FALSE)
out <- data.frame(term = names(ss), share = formatC(ss / sst, digits = 17, format = "g"),
                  p = formatC(p, digits = 17, format = "g"))
write.csv(out, "shares_r.csv", row.names = FALSE, quote = FALSE)
