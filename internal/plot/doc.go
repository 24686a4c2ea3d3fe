// Package plot draws p4qos's figures with gonum.org/v1/plot: an allocation
// (each link's load against its capacity, each flow group's bandwidth
// function and where it froze) for `p4qos allocate --plot`, each flow
// group's rate under several fairness objectives side by side (`--plot` with
// `--alpha 0,1,2,inf`), and rates over
// time for `p4qos lab plot` and the teaching labs. The output format (SVG,
// PNG or PDF) follows the file name's extension; text is set in the
// Liberation fonts that gonum embeds, and rate axes are labelled in SI bits
// per second ("2.5 Gbit/s").
package plot
