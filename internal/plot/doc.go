// Package plot draws small line charts as standalone SVG with the standard
// library only: `p4qos lab plot` uses it for rates per class over time.
package plot
