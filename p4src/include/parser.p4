/*
 * p4qos: architecture-independent parsing and metadata normalisation.
 * Target programs call these from their own parser and control blocks; their
 * deparsers emit the whole qos_headers_t, which emits valid headers in order.
 *
 * What happens to odd packets (docs/pipeline.md):
 *   - truncated headers: extract() fails with error.PacketTooShort, the
 *     parser rejects, and ingress drops the packet on the parser error;
 *   - IPv4 with IHL != 5 (options, or a length below the minimum):
 *     dropped; options are rare on the paths this product serves and a
 *     checksum over options would need variable-length fields that TNA does
 *     not offer. v1model rejects them with error.Ipv4HeaderLength; on Tofino
 *     (__TARGET_TOFINO__, defined by bf-p4c), whose parser cannot verify(),
 *     ingress drops an IPv4 header with ihl != 5;
 *   - IPv4 non-first fragments and IPv6 with extension headers: no L4 header
 *     is parsed (its ports read as 0), the packet is forwarded normally;
 *   - non-IP packets: parsed, then dropped by ingress.
 */
#ifndef _P4QOS_PARSER_P4_
#define _P4QOS_PARSER_P4_

error { Ipv4HeaderLength }

/* Parses from the Ethernet header on. inout, not out: the TNA egress parser
 * has already extracted hdr.bridge, and an out parameter would invalidate it. */
parser QosHeaderParser(packet_in pkt, inout qos_headers_t hdr) {
    state start {
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.ether_type) {
            ETHERTYPE_VLAN: parse_vlan;
            ETHERTYPE_IPV4: parse_ipv4;
            ETHERTYPE_IPV6: parse_ipv6;
            default: accept;
        }
    }

    state parse_vlan {
        pkt.extract(hdr.vlan);
        transition select(hdr.vlan.ether_type) {
            ETHERTYPE_IPV4: parse_ipv4;
            ETHERTYPE_IPV6: parse_ipv6;
            default: accept;
        }
    }

    state parse_ipv4 {
        pkt.extract(hdr.ipv4);
#ifndef __TARGET_TOFINO__
        verify(hdr.ipv4.ihl == 5, error.Ipv4HeaderLength);
#endif
        /* Only the first fragment carries the L4 header, and only an IHL of
         * 5 says where it starts. On v1model the verify above has already
         * rejected IHL != 5. bf-p4c ignores verify() (it warns "Parser
         * verify is currently unsupported"), so on Tofino a packet with
         * IHL != 5 leaves the parser here, IPv4 valid and nothing after
         * it parsed, and the TNA ingress drops it on hdr.ipv4.ihl != 5. */
        transition select(hdr.ipv4.ihl, hdr.ipv4.frag_offset, hdr.ipv4.protocol) {
            (5, 0, IP_PROTO_TCP): parse_tcp;
            (5, 0, IP_PROTO_UDP): parse_udp;
            default: accept;
        }
    }

    state parse_ipv6 {
        pkt.extract(hdr.ipv6);
        transition select(hdr.ipv6.next_hdr) {
            IP_PROTO_TCP: parse_tcp;
            IP_PROTO_UDP: parse_udp;
            default: accept;
        }
    }

    state parse_tcp {
        pkt.extract(hdr.tcp);
        transition accept;
    }

    state parse_udp {
        pkt.extract(hdr.udp);
        transition accept;
    }
}

/* Fills the normalised metadata fields of docs/pipeline.md from the parsed
 * headers. Fields stay 0 when the header they come from is absent. */
control QosNormalize(in qos_headers_t hdr, inout qos_meta_t meta) {
    apply {
        meta.class_id = 0;
        meta.color = COLOR_GREEN;
        meta.queue = 0;
        meta.drop = 0;
        meta.ecn_enabled = 0;
        meta.ecn_threshold = 0;
        meta.reserved = 0;
        meta.excess_drop = 0;
        meta.dscp = 0;
        meta.ip_version = 0;
        meta.ip_proto = 0;
        meta.flow_src = 0;
        meta.flow_dst = 0;
        meta.l4_src_port = 0;
        meta.l4_dst_port = 0;
        if (hdr.ipv4.isValid()) {
            meta.ip_version = 4;
            meta.dscp = hdr.ipv4.dscp;
            meta.ip_proto = hdr.ipv4.protocol;
            meta.flow_src = (ipv6_addr_t)hdr.ipv4.src_addr;
            meta.flow_dst = (ipv6_addr_t)hdr.ipv4.dst_addr;
        } else if (hdr.ipv6.isValid()) {
            meta.ip_version = 6;
            meta.dscp = hdr.ipv6.dscp;
            meta.ip_proto = hdr.ipv6.next_hdr;
            meta.flow_src = hdr.ipv6.src_addr;
            meta.flow_dst = hdr.ipv6.dst_addr;
        }
        if (hdr.tcp.isValid()) {
            meta.l4_src_port = hdr.tcp.src_port;
            meta.l4_dst_port = hdr.tcp.dst_port;
        } else if (hdr.udp.isValid()) {
            meta.l4_src_port = hdr.udp.src_port;
            meta.l4_dst_port = hdr.udp.dst_port;
        }
    }
}

/* Writes the (possibly remarked) DSCP back into whichever IP header exists. */
control QosWriteDscp(inout qos_headers_t hdr, in qos_meta_t meta) {
    apply {
        if (hdr.ipv4.isValid()) {
            hdr.ipv4.dscp = meta.dscp;
        } else if (hdr.ipv6.isValid()) {
            hdr.ipv6.dscp = meta.dscp;
        }
    }
}

#endif /* _P4QOS_PARSER_P4_ */
