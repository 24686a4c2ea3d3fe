#!/usr/bin/python3
"""Builds a p4qos lab in Mininet from a JSON spec written by `p4qos lab up`.

Runs inside the lab's own network namespace (`ip netns exec NS ...`), so the
switches' P4Runtime and thrift servers (BMv2 binds thrift to 0.0.0.0 whatever
it is told) are reachable only there, and deleting that namespace removes
every switch-side veth. Host shells live in namespaces of their own; their
pids go to pids.json so that `p4qos lab down` can kill them after a crash.

Mininet runs without Open vSwitch: the switches are BMv2 simple_switch_grpc
processes with --priority-queues 8 (else packets with priority > 0 are dropped).
"""
import json
import os
import signal
import subprocess
import sys
import time

from mininet.link import TCLink
from mininet.log import setLogLevel, info
from mininet.net import Mininet
from mininet.node import Host, Switch

OFFLOADS = "rx off tx off sg off tso off gso off gro off"


class BMv2Switch(Switch):
    """A Mininet switch backed by BMv2 simple_switch_grpc (no pipeline loaded:
    the p4qos controller pushes it over P4Runtime)."""

    def __init__(self, name, spec=None, lab=None, **kw):
        # Mininet passes its own inNamespace; BMv2 runs in the lab's.
        kw.pop("inNamespace", None)
        Switch.__init__(self, name, inNamespace=False, **kw)
        self.spec = spec
        self.lab = lab
        self.proc = None

    def start(self, controllers):
        args = [self.lab["bmv2"], "--device-id", str(self.spec["device_id"])]
        for port, intf in sorted(self.intfs.items()):
            if intf.name == "lo" or port == 0:
                continue
            args += ["-i", "%d@%s" % (port, intf.name)]
            self.cmd("ethtool -K %s %s >/dev/null 2>&1" % (intf.name, OFFLOADS))
        log = os.path.join(self.lab["state_dir"], "%s.log" % self.name)
        args += ["--thrift-port", str(self.spec["thrift_port"]),
                 "--log-file", log, "--log-flush", "--log-level", self.lab.get("log_level") or "warn",
                 "--no-p4"]
        if self.lab.get("pcap_dir"):
            # Per-port captures: <intf>_in.pcap and <intf>_out.pcap. One
            # token: the directory is optional to BMv2 (an implicit value),
            # so "--pcap DIR" would leave DIR to its positional argument.
            args += ["--pcap=" + self.lab["pcap_dir"]]
        args += ["--", "--grpc-server-addr", self.spec["grpc"], "--priority-queues", "8"]
        if self.spec.get("cpu_port"):
            args += ["--cpu-port", str(self.spec["cpu_port"])]
        if self.lab.get("rt_priority"):
            # chrt execs BMv2 (same pid) under SCHED_RR; every thread BMv2
            # creates inherits it. Why: topo/mininet WithSwitchRTPriority.
            args = ["chrt", "-r", str(self.lab["rt_priority"])] + args
        out = open(os.path.join(self.lab["state_dir"], "%s.out" % self.name), "w")
        self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)

    def stop(self, deleteIntfs=True):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except Exception:
                self.proc.kill()
        Switch.stop(self, deleteIntfs)


def build(lab):
    net = Mininet(topo=None, build=False, controller=None, link=TCLink,
                  autoSetMacs=False, autoStaticArp=False)
    sws = {}
    for s in lab["switches"]:
        sws[s["name"]] = net.addSwitch(s["name"], cls=BMv2Switch, spec=s, lab=lab,
                                       dpid="%x" % s["device_id"])
    hosts = {}
    for h in lab.get("hosts") or []:
        hosts[h["name"]] = net.addHost(h["name"], cls=Host, ip=h.get("ipv4") or None,
                                       mac=h["mac"])
        net.addLink(hosts[h["name"]], sws[h["switch"]], port1=0, port2=h["port"],
                    **shaping(h))
    for l in lab.get("links") or []:
        net.addLink(sws[l["a"]], sws[l["b"]], port1=l["a_port"], port2=l["b_port"],
                    **shaping(l))
    return net, hosts


def shaping(spec):
    kw = {}
    if spec.get("bw_mbps"):
        kw["bw"] = spec["bw_mbps"]
    if spec.get("delay"):
        kw["delay"] = spec["delay"]
    if spec.get("loss"):
        kw["loss"] = spec["loss"]
    return kw


def configure_hosts(lab, hosts):
    for h in lab.get("hosts") or []:
        node = hosts[h["name"]]
        intf = node.defaultIntf().name
        node.cmd("ethtool -K %s %s >/dev/null 2>&1" % (intf, OFFLOADS))
        node.cmd("sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0")
        if h.get("gateway"):
            node.cmd("ip route replace default via %s dev %s" % (h["gateway"], intf))
            node.setARP(h["gateway"], h["gateway_mac"])
        if h.get("ipv6"):
            node.cmd("ip -6 addr add %s dev %s nodad" % (h["ipv6"], intf))
            if h.get("gateway_v6"):
                node.cmd("ip -6 route replace default via %s dev %s" % (h["gateway_v6"], intf))
                node.cmd("ip -6 neigh replace %s lladdr %s dev %s" % (h["gateway_v6"], h["gateway_mac"], intf))
        # The switches route and answer no ARP/NDP: hosts on the same subnet
        # get static entries; all others are reached through the gateway.
        for n in h.get("neighbors", []):
            node.cmd("ip neigh replace %s lladdr %s dev %s" % (n["ip"], n["mac"], intf))


def write_pids(lab, hosts, net):
    """Records host shell and switch pids (atomically) for `p4qos lab down`."""
    path = os.path.join(lab["state_dir"], "pids.json")
    with open(path + ".tmp", "w") as f:
        json.dump({"hosts": {n: h.pid for n, h in hosts.items()},
                   "switches": {s.name: s.proc.pid for s in net.switches if s.proc}}, f)
    os.rename(path + ".tmp", path)


def main():
    setLogLevel("warning")
    lab = json.load(open(sys.argv[1]))
    net, hosts = build(lab)
    write_pids(lab, hosts, net)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    net.build()
    net.start()
    configure_hosts(lab, hosts)
    write_pids(lab, hosts, net)
    with open(lab["ready_file"], "w") as f:
        f.write("ready\n")
    while not stopping:
        time.sleep(0.5)
    net.stop()


if __name__ == "__main__":
    main()
