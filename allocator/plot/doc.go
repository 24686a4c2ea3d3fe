// Package plot draws an allocation for people: each link's load against its
// capacity, and each flow group's bandwidth function with the fair share at
// which it froze. It writes SVG (text and all) or PNG (stdlib image/png,
// labels in a small built-in bitmap font), with no dependencies.
package plot
