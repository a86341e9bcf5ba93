//! Comparing values across sources: groups, majorities and likely causes.
