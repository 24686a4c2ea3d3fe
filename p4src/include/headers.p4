/*
 * p4qos: header types, header stack and metadata shared by every target.
 *
 * The names here are referenced by docs/pipeline.md (the contract). Nothing in
 * this file depends on an architecture (v1model, TNA); target programs include
 * it after their architecture header.
 */
#ifndef _P4QOS_HEADERS_P4_
#define _P4QOS_HEADERS_P4_

typedef bit<48> mac_addr_t;
typedef bit<32> ipv4_addr_t;
typedef bit<128> ipv6_addr_t;

const bit<16> ETHERTYPE_IPV4 = 0x0800;
const bit<16> ETHERTYPE_IPV6 = 0x86dd;
const bit<16> ETHERTYPE_VLAN = 0x8100;
/* Link-liveness probes (docs/pipeline.md, "CPU port"): IEEE 802 local
 * experimental EtherType 1. Every frame with it is punted to the controller. */
const bit<16> ETHERTYPE_PROBE = 0x88b5;

const bit<8> IP_PROTO_TCP = 6;
const bit<8> IP_PROTO_UDP = 17;

/* ECN codepoints, RFC 3168 section 5. */
const bit<2> ECN_NOT_ECT = 0;
const bit<2> ECN_CE = 3;

/* Target-independent meter colors carried in qos_meta_t.color (docs/pipeline.md). */
const bit<2> COLOR_GREEN = 0;
const bit<2> COLOR_YELLOW = 1;
const bit<2> COLOR_RED = 2;

/* Sizes of the pipeline's tables and arrays: part of the contract. */
#define QOS_CLASSES 256
#define CLASSIFIER_SIZE 1024
#define COLOR_ACTION_SIZE 1024
#define PHB_SIZE 64
#define LPM_SIZE 1024
#define ECMP_MEMBERS 1024
#define ECMP_MAX_GROUP_SIZE 64
#define QUEUE_COUNTERS 4096
#define ECN_THRESHOLD_SIZE 512
/* Admitted reservations at one ingress edge switch, each with its own
 * direct-meter trTCM (docs/pipeline.md, "reservation": why 1024). */
#define RESERVATION_SIZE 1024

header ethernet_h {
    mac_addr_t dst_addr;
    mac_addr_t src_addr;
    bit<16>    ether_type;
}

/* IEEE 802.1Q tag; ether_type is the type of what follows the tag. */
header vlan_tag_h {
    bit<3>  pcp;
    bit<1>  dei;
    bit<12> vid;
    bit<16> ether_type;
}

/* RFC 791 with the TOS byte split per RFC 2474 (DSCP) and RFC 3168 (ECN). */
header ipv4_h {
    bit<4>      version;
    bit<4>      ihl;
    bit<6>      dscp;
    bit<2>      ecn;
    bit<16>     total_len;
    bit<16>     identification;
    bit<3>      flags;
    bit<13>     frag_offset;
    bit<8>      ttl;
    bit<8>      protocol;
    bit<16>     hdr_checksum;
    ipv4_addr_t src_addr;
    ipv4_addr_t dst_addr;
}

/* RFC 8200 with the traffic class split like IPv4's TOS byte. */
header ipv6_h {
    bit<4>      version;
    bit<6>      dscp;
    bit<2>      ecn;
    bit<20>     flow_label;
    bit<16>     payload_len;
    bit<8>      next_hdr;
    bit<8>      hop_limit;
    ipv6_addr_t src_addr;
    ipv6_addr_t dst_addr;
}

header tcp_h {
    bit<16> src_port;
    bit<16> dst_port;
    bit<32> seq_no;
    bit<32> ack_no;
    bit<4>  data_offset;
    bit<4>  res;
    bit<8>  flags;
    bit<16> window;
    bit<16> checksum;
    bit<16> urgent_ptr;
}

header udp_h {
    bit<16> src_port;
    bit<16> dst_port;
    bit<16> length;
    bit<16> checksum;
}

/*
 * P4Runtime packet I/O (docs/pipeline.md, "CPU port"). A packet the switch
 * sends to the controller starts with packet_in (the port it arrived on); one
 * the controller sends starts with packet_out (the port to send it from). The
 * pads make both headers whole bytes, as the CPU port's framing requires;
 * they come first so that the port sits in the low 9 bits of a 16-bit word,
 * where Tofino's intrinsic metadata has it (one PHV source on TNA).
 */
@controller_header("packet_in")
header packet_in_h {
    bit<7> _pad;
    bit<9> ingress_port;
}

@controller_header("packet_out")
header packet_out_h {
    bit<7> _pad;
    bit<9> egress_port;
}

/*
 * Ingress state that egress needs. v1model carries user metadata from ingress
 * to egress by itself, so there this header is never valid; TNA does not, so
 * the TNA program prepends it to the packet between its ingress deparser and
 * egress parser ("bridged metadata").
 */
header qos_bridge_h {
    bit<8> class_id;
    bit<5> _pad;
    bit<3> queue;
}

struct qos_headers_t {
    qos_bridge_h bridge;
    packet_in_h  packet_in;
    packet_out_h packet_out;
    ethernet_h   ethernet;
    vlan_tag_h   vlan;
    ipv4_h       ipv4;
    ipv6_h       ipv6;
    tcp_h        tcp;
    udp_h        udp;
}

/*
 * Metadata the pipeline normalises after parsing (docs/pipeline.md, "Metadata
 * the pipeline normalises"). flow_src/flow_dst hold the IPv4 address
 * zero-extended or the IPv6 address so that ipv4_lpm and ipv6_lpm can share
 * one selector: tables that share an action selector must hash the same
 * fields.
 */
struct qos_meta_t {
    bit<8>      class_id;
    bit<2>      color;
    bit<6>      dscp;
    bit<4>      ip_version;
    bit<8>      ip_proto;
    bit<16>     l4_src_port;
    bit<16>     l4_dst_port;
    ipv6_addr_t flow_src;
    ipv6_addr_t flow_dst;
    bit<3>      queue;
    bit<1>      drop;
    bit<1>      cpu;        /* packet-in or packet-out: egress leaves it alone */
    bit<1>      ecn_enabled;
    bit<19>     ecn_threshold;
    bit<1>      reserved;    /* the reservation table hit */
    bit<1>      excess_drop; /* its out-of-profile packets are dropped, not remarked */
}

#endif /* _P4QOS_HEADERS_P4_ */
