/*
 * p4qos qos pipeline for BMv2 simple_switch_grpc (v1model).
 *
 * Table, action, meter and counter names are the contract in docs/pipeline.md;
 * every table key has an explicit @name so that P4Info field names do not
 * depend on the expression matched. Run simple_switch_grpc with
 * --priority-queues 8: the phb table writes standard_metadata.priority, which
 * simple_switch only honours with priority queues, and with --cpu-port 255
 * (CPU_PORT below): P4Runtime packet-in/packet-out use that port
 * (docs/pipeline.md, "CPU port").
 */
#include <core.p4>
#include <v1model.p4>

#include "../include/headers.p4"
#include "../include/parser.p4"

/* simple_switch_grpc --cpu-port: packets the ingress sends here reach the
 * controller as PacketIn; PacketOuts enter the pipeline on it. */
#ifndef CPU_PORT
#define CPU_PORT 255
#endif

parser QosParser(packet_in pkt, out qos_headers_t hdr, inout qos_meta_t meta,
                 inout standard_metadata_t smeta) {
    QosHeaderParser() qos_header_parser;

    state start {
        /* hdr is an out parameter: make every header invalid explicitly
         * before the sub-parser takes it inout. */
        hdr.bridge.setInvalid();
        hdr.packet_in.setInvalid();
        hdr.packet_out.setInvalid();
        hdr.ethernet.setInvalid();
        hdr.vlan.setInvalid();
        hdr.ipv4.setInvalid();
        hdr.ipv6.setInvalid();
        hdr.tcp.setInvalid();
        hdr.udp.setInvalid();
        transition select(smeta.ingress_port) {
            CPU_PORT: parse_packet_out;
            default: parse_headers;
        }
    }

    state parse_packet_out {
        pkt.extract(hdr.packet_out);
        transition parse_headers;
    }

    state parse_headers {
        qos_header_parser.apply(pkt, hdr);
        transition accept;
    }
}

control QosVerifyChecksum(inout qos_headers_t hdr, inout qos_meta_t meta) {
    /* The IPv4 checksum is not verified: a router may forward such packets
     * (RFC 1812 section 5.2.2 lets it discard them, it need not), and the
     * Tofino program cannot verify it in the same place. */
    apply { }
}

control QosIngress(inout qos_headers_t hdr, inout qos_meta_t meta,
                   inout standard_metadata_t smeta) {
    QosNormalize() normalize;
    QosWriteDscp() write_dscp;

    /* trTCM, RFC 2698, in bytes: P4Runtime MeterConfig cir/pir are bytes per
     * second and cburst/pburst bytes (P4Runtime spec section 9.6). */
    meter(QOS_CLASSES, MeterType.bytes) class_meter;

    action drop() {
        mark_to_drop(smeta);
        meta.drop = 1;
    }

    action set_class(bit<8> class_id, bit<6> dscp) {
        meta.class_id = class_id;
        meta.dscp = dscp;
    }

    action trust_dscp(bit<8> class_id) {
        meta.class_id = class_id;
    }

    action set_default_class() {
        meta.class_id = 0;
    }

    table classifier {
        key = {
            smeta.ingress_port : ternary @name("ingress_port");
            meta.ip_version    : ternary @name("ip_version");
            hdr.ipv4.src_addr  : ternary @name("ipv4_src");
            hdr.ipv4.dst_addr  : ternary @name("ipv4_dst");
            hdr.ipv6.src_addr  : ternary @name("ipv6_src");
            hdr.ipv6.dst_addr  : ternary @name("ipv6_dst");
            meta.ip_proto      : ternary @name("ip_proto");
            meta.l4_src_port   : range   @name("l4_src_port");
            meta.l4_dst_port   : range   @name("l4_dst_port");
            meta.dscp          : ternary @name("dscp");
        }
        actions = {
            set_class;
            trust_dscp;
            set_default_class;
        }
        default_action = set_default_class();
        size = CLASSIFIER_SIZE;
    }

    /* Per-reservation policing (admission control, docs/admission.md): an
     * admitted flow's TSpec (r, b, p, M) is the trTCM (CIR r, CBS b, PIR p,
     * PBS M) of its entry's direct meter, in bytes as class_meter. A hit
     * overrides the classifier's class and DSCP (the PHB: phb maps the
     * DSCP to the queue) and skips class_meter and color_action, so that a
     * reserved flow is policed against its own TSpec only, never against
     * unreserved traffic of its class. A packet the meter does not mark
     * green is out of profile (it exceeds r/b or p/M): dropped when
     * excess_drop is 1, else remarked to best effort (class 0, DSCP 0). */
    direct_meter<bit<2>>(MeterType.bytes) reservation_meter;

    action reserve(bit<8> class_id, bit<6> dscp, bit<1> excess_drop) {
        reservation_meter.read(meta.color);
        meta.class_id = class_id;
        meta.dscp = dscp;
        meta.reserved = 1;
        meta.excess_drop = excess_drop;
    }

    table reservation {
        key = {
            meta.ip_version  : ternary @name("ip_version");
            meta.flow_src    : ternary @name("src");
            meta.flow_dst    : ternary @name("dst");
            meta.ip_proto    : ternary @name("ip_proto");
            meta.l4_src_port : ternary @name("l4_src_port");
            meta.l4_dst_port : ternary @name("l4_dst_port");
        }
        /* Every hit runs reserve: Tofino requires a direct meter to be
         * executed by all hit actions, so NoAction is the miss only. */
        actions = {
            reserve;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        meters = reservation_meter;
        size = RESERVATION_SIZE;
    }

    /* RFC 2597 section 2 (AF drop precedence) and RFC 3246 (EF policing) are
     * what the compiler installs here; the table only offers the means. */
    action remark_dscp(bit<6> dscp) {
        meta.dscp = dscp;
    }

    table color_action {
        key = {
            meta.class_id : exact @name("class_id");
            meta.color    : exact @name("color");
        }
        actions = {
            remark_dscp;
            drop;
            NoAction;
        }
        default_action = NoAction();
        size = COLOR_ACTION_SIZE;
    }

    /* simple_switch serves priority 7 first (docs/targets.md). */
    action set_queue(bit<3> queue) {
        smeta.priority = queue;
        meta.queue = queue;
    }

    table phb {
        key = {
            meta.dscp : exact @name("dscp");
        }
        actions = {
            set_queue;
            NoAction;
        }
        default_action = NoAction();
        size = PHB_SIZE;
    }

    /* The TTL/hop limit is known to be > 1 here (checked before routing). */
    action set_next_hop(bit<9> port, bit<48> smac, bit<48> dmac) {
        smeta.egress_spec = port;
        hdr.ethernet.src_addr = smac;
        hdr.ethernet.dst_addr = dmac;
        if (hdr.ipv4.isValid()) {
            hdr.ipv4.ttl = hdr.ipv4.ttl - 1;
        } else {
            hdr.ipv6.hop_limit = hdr.ipv6.hop_limit - 1;
        }
    }

    /* Shared by ipv4_lpm and ipv6_lpm; both tables hash the same selector
     * fields, as a shared selector requires. Member weights (WCMP) are
     * P4Runtime section 9.2.3; PI realises them on BMv2 by repeating the
     * member in the group. */
    @max_group_size(ECMP_MAX_GROUP_SIZE) @selector_size_semantics("sum_of_weights")
    action_selector(HashAlgorithm.crc32, ECMP_MEMBERS, 32w16) ecmp_selector;

    table ipv4_lpm {
        key = {
            hdr.ipv4.dst_addr : lpm @name("ipv4_dst");
            meta.flow_src     : selector @name("flow_src");
            meta.flow_dst     : selector @name("flow_dst");
            meta.ip_proto     : selector @name("ip_proto");
            meta.l4_src_port  : selector @name("l4_src_port");
            meta.l4_dst_port  : selector @name("l4_dst_port");
        }
        actions = {
            set_next_hop;
            drop;
        }
        default_action = drop();
        implementation = ecmp_selector;
        size = LPM_SIZE;
    }

    table ipv6_lpm {
        key = {
            hdr.ipv6.dst_addr : lpm @name("ipv6_dst");
            meta.flow_src     : selector @name("flow_src");
            meta.flow_dst     : selector @name("flow_dst");
            meta.ip_proto     : selector @name("ip_proto");
            meta.l4_src_port  : selector @name("l4_src_port");
            meta.l4_dst_port  : selector @name("l4_dst_port");
        }
        actions = {
            set_next_hop;
            drop;
        }
        default_action = drop();
        implementation = ecmp_selector;
        size = LPM_SIZE;
    }

    apply {
        meta.cpu = 0;
        /* A PacketOut leaves by the port it names, untouched by the qos
         * pipeline (no class, meter, queue or counter). */
        if (hdr.packet_out.isValid()) {
            smeta.egress_spec = hdr.packet_out.egress_port;
            hdr.packet_out.setInvalid();
            meta.cpu = 1;
            exit;
        }
        /* v1model hands packets that failed parsing to ingress with
         * parser_error set; they are dropped (docs/pipeline.md). */
        if (smeta.parser_error != error.NoError) {
            drop();
            exit;
        }
        /* Link-liveness probes go to the controller with their ingress port. */
        if (hdr.ethernet.isValid() && hdr.ethernet.ether_type == ETHERTYPE_PROBE) {
            smeta.egress_spec = CPU_PORT;
            hdr.packet_in.setValid();
            hdr.packet_in.ingress_port = smeta.ingress_port;
            hdr.packet_in._pad = 0;
            meta.cpu = 1;
            exit;
        }
        if (!hdr.ipv4.isValid() && !hdr.ipv6.isValid()) {
            drop();
            exit;
        }
        normalize.apply(hdr, meta);

        classifier.apply();

        /* v1model colors are GREEN=0, YELLOW=1, RED=2: already the
         * target-independent encoding of meta.color. */
        reservation.apply();
        if (meta.reserved == 1) {
            if (meta.color != COLOR_GREEN) {
                if (meta.excess_drop == 1) {
                    drop();
                    exit;
                }
                meta.class_id = 0;
                meta.dscp = 0;
            }
        } else {
            class_meter.execute_meter((bit<32>)meta.class_id, meta.color);
            color_action.apply();
            if (meta.drop == 1) {
                exit;
            }
        }
        write_dscp.apply(hdr, meta);

        phb.apply();

        if ((hdr.ipv4.isValid() && hdr.ipv4.ttl <= 1) ||
            (hdr.ipv6.isValid() && hdr.ipv6.hop_limit <= 1)) {
            drop();
            exit;
        }
        /* BMv2 cannot give a table with an action profile a default action
         * (p4c ignores default_action there), so a miss is dropped here. */
        if (hdr.ipv4.isValid()) {
            if (!ipv4_lpm.apply().hit) {
                drop();
            }
        } else {
            if (!ipv6_lpm.apply().hit) {
                drop();
            }
        }
    }
}

control QosEgress(inout qos_headers_t hdr, inout qos_meta_t meta,
                  inout standard_metadata_t smeta) {
    counter(QOS_CLASSES, CounterType.packets_and_bytes) class_counter;
    counter(QUEUE_COUNTERS, CounterType.packets_and_bytes) queue_counter;

    action set_ecn_threshold(bit<19> threshold) {
        meta.ecn_enabled = 1;
        meta.ecn_threshold = threshold;
    }

    table ecn_threshold {
        key = {
            smeta.egress_port : exact @name("egress_port");
            meta.queue        : exact @name("queue");
        }
        actions = {
            set_ecn_threshold;
            NoAction;
        }
        default_action = NoAction();
        size = ECN_THRESHOLD_SIZE;
    }

    apply {
        if (meta.cpu == 1) {
            exit;
        }
        class_counter.count((bit<32>)meta.class_id);
        /* egress_port < 512 and queue < 8, so the index is < 4096. */
        queue_counter.count(((bit<32>)smeta.egress_port << 3) | (bit<32>)meta.queue);

        meta.ecn_enabled = 0;
        ecn_threshold.apply();
        /* RFC 3168 section 5: only ECN-capable packets may be marked. */
        if (meta.ecn_enabled == 1 && smeta.enq_qdepth >= meta.ecn_threshold) {
            if (hdr.ipv4.isValid() && hdr.ipv4.ecn != ECN_NOT_ECT) {
                hdr.ipv4.ecn = ECN_CE;
            } else if (hdr.ipv6.isValid() && hdr.ipv6.ecn != ECN_NOT_ECT) {
                hdr.ipv6.ecn = ECN_CE;
            }
        }
    }
}

control QosComputeChecksum(inout qos_headers_t hdr, inout qos_meta_t meta) {
    apply {
        update_checksum(
            hdr.ipv4.isValid(),
            { hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.dscp, hdr.ipv4.ecn,
              hdr.ipv4.total_len, hdr.ipv4.identification, hdr.ipv4.flags,
              hdr.ipv4.frag_offset, hdr.ipv4.ttl, hdr.ipv4.protocol,
              hdr.ipv4.src_addr, hdr.ipv4.dst_addr },
            hdr.ipv4.hdr_checksum,
            HashAlgorithm.csum16);
    }
}

control QosDeparser(packet_out pkt, in qos_headers_t hdr) {
    apply {
        /* Emits the valid headers in struct order; hdr.bridge is never valid
         * on v1model. */
        pkt.emit(hdr);
    }
}

V1Switch(QosParser(), QosVerifyChecksum(), QosIngress(), QosEgress(),
         QosComputeChecksum(), QosDeparser()) main;
