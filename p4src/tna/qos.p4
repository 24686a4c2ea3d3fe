/*
 * p4qos qos pipeline for Tofino (TNA, Tofino 1 and 2).
 *
 * Same tables, actions, meter and counters as p4src/v1model/qos.p4 (the
 * contract in docs/pipeline.md); docs/targets.md lists where and why the two
 * programs differ. The differences that matter to a controller:
 *   - meter colors: TNA's Meter returns MeterColor_t (RED = 3); it is mapped
 *     to the target-independent meta.color (RED = 2) right after execute();
 *   - queues: set_queue writes ig_tm_md.qid and ig_tm_md.ingress_cos; queue
 *     rates, weights and priorities are configured in the traffic manager
 *     (BF-RT / port config), never by P4Runtime;
 *   - egress sees no ingress metadata, so class id and queue are bridged in
 *     hdr.bridge (include/headers.p4);
 *   - packet-in and packet-out bypass egress (ig_tm_md.bypass_egress), so
 *     they carry no bridge header.
 */
#include <core.p4>
#if __TARGET_TOFINO__ == 2
#include <t2na.p4>
#else
#include <tna.p4>
#endif

#include "../include/headers.p4"
#include "../include/parser.p4"

/* The CPU port P4Runtime packet I/O uses (docs/pipeline.md, "CPU port"): the
 * PCIe CPU port, 192 on a 2-pipe Tofino 1 (e.g. Wedge100BF-32X) and 0 on
 * Tofino 2. A 4-pipe Tofino 1 (320) or an Ethernet CPU port (64 on
 * tofino-model) is set with -DCPU_PORT=... */
#ifndef CPU_PORT
#if __TARGET_TOFINO__ == 2
#define CPU_PORT 0
#else
#define CPU_PORT 192
#endif
#endif

/* ------------------------------------------------------------------ ingress */

parser QosIngressParser(packet_in pkt, out qos_headers_t hdr, out qos_meta_t meta,
                        out ingress_intrinsic_metadata_t ig_intr_md) {
    QosHeaderParser() qos_header_parser;

    state start {
        hdr.bridge.setInvalid();
        hdr.packet_in.setInvalid();
        hdr.packet_out.setInvalid();
        hdr.ethernet.setInvalid();
        hdr.vlan.setInvalid();
        hdr.ipv4.setInvalid();
        hdr.ipv6.setInvalid();
        hdr.tcp.setInvalid();
        hdr.udp.setInvalid();
        pkt.extract(ig_intr_md);
        pkt.advance(PORT_METADATA_SIZE);
        transition select(ig_intr_md.ingress_port) {
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

control QosIngress(inout qos_headers_t hdr, inout qos_meta_t meta,
                   in ingress_intrinsic_metadata_t ig_intr_md,
                   in ingress_intrinsic_metadata_from_parser_t ig_prsr_md,
                   inout ingress_intrinsic_metadata_for_deparser_t ig_dprsr_md,
                   inout ingress_intrinsic_metadata_for_tm_t ig_tm_md) {
    QosNormalize() normalize;
    QosWriteDscp() write_dscp;

    /* trTCM (RFC 2698) in bytes; P4Runtime MeterConfig as on v1model. */
    Meter<bit<8>>(QOS_CLASSES, MeterType_t.BYTES) class_meter;
    bit<8> tna_color;

    action drop() {
        ig_dprsr_md.drop_ctl = 1;
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
            ig_intr_md.ingress_port : ternary @name("ingress_port");
            meta.ip_version         : ternary @name("ip_version");
            hdr.ipv4.src_addr       : ternary @name("ipv4_src");
            hdr.ipv4.dst_addr       : ternary @name("ipv4_dst");
            hdr.ipv6.src_addr       : ternary @name("ipv6_src");
            hdr.ipv6.dst_addr       : ternary @name("ipv6_dst");
            meta.ip_proto           : ternary @name("ip_proto");
            meta.l4_src_port        : range   @name("l4_src_port");
            meta.l4_dst_port        : range   @name("l4_dst_port");
            meta.dscp               : ternary @name("dscp");
        }
        actions = {
            set_class;
            trust_dscp;
            set_default_class;
        }
        default_action = set_default_class();
        size = CLASSIFIER_SIZE;
    }

    /* Per-reservation policing: same semantics as v1model's (the comment
     * there). The direct meter's TNA color is mapped to meta.color with
     * class_meter's. */
    DirectMeter(MeterType_t.BYTES) reservation_meter;

    action reserve(bit<8> class_id, bit<6> dscp, bit<1> excess_drop) {
        tna_color = reservation_meter.execute();
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

    /* qid picks the egress queue; ingress_cos the ingress priority group.
     * Which queue is served first is traffic-manager configuration. */
    action set_queue(bit<3> queue) {
        ig_tm_md.qid = (QueueId_t)queue;
        ig_tm_md.ingress_cos = queue;
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

    /* TTL/hop limit are decremented after the lookup (apply block below):
     * Tofino actions cannot branch on header validity. */
    action set_next_hop(bit<9> port, bit<48> smac, bit<48> dmac) {
        ig_tm_md.ucast_egress_port = (PortId_t)port;
        hdr.ethernet.src_addr = smac;
        hdr.ethernet.dst_addr = dmac;
    }

    Hash<bit<16>>(HashAlgorithm_t.CRC16) ecmp_hash;
    ActionProfile(ECMP_MEMBERS) ecmp_profile;
    /* FAIR: members are chosen uniformly by hash; RESILIENT would keep flows
     * on their member when the group changes, at the cost of table space. */
    @max_group_size(ECMP_MAX_GROUP_SIZE) @selector_size_semantics("sum_of_weights")
    ActionSelector(ecmp_profile, ecmp_hash, SelectorMode_t.FAIR,
                   ECMP_MAX_GROUP_SIZE, ECMP_MEMBERS) ecmp_selector;

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
        /* A PacketOut leaves by the port it names, untouched by the qos
         * pipeline; egress is bypassed, so no bridge header. */
        if (hdr.packet_out.isValid()) {
            ig_tm_md.ucast_egress_port = (PortId_t)hdr.packet_out.egress_port;
            ig_tm_md.bypass_egress = 1;
            hdr.packet_out.setInvalid();
            exit;
        }
        if (ig_prsr_md.parser_err != 0) {
            drop();
            exit;
        }
        /* Link-liveness probes go to the controller with their ingress port. */
        if (hdr.ethernet.isValid() && hdr.ethernet.ether_type == ETHERTYPE_PROBE) {
            ig_tm_md.ucast_egress_port = CPU_PORT;
            ig_tm_md.bypass_egress = 1;
            hdr.packet_in.setValid();
            /* _pad is not written: a constant beside the PHV source
             * would need a second action source, which Tofino lacks. */
            hdr.packet_in.ingress_port = (bit<9>)ig_intr_md.ingress_port;
            exit;
        }
        if (!hdr.ipv4.isValid() && !hdr.ipv6.isValid()) {
            drop();
            exit;
        }
        /* IPv4 options (IHL != 5): the Tofino parser cannot verify() the
         * IHL as v1model's does, so it stops after the IPv4 header
         * (include/parser.p4) and the packet is dropped here. */
        if (hdr.ipv4.isValid() && hdr.ipv4.ihl != 5) {
            drop();
            exit;
        }
        normalize.apply(hdr, meta);

        classifier.apply();

        tna_color = (bit<8>)MeterColor_t.GREEN;
        reservation.apply();
        if (meta.reserved == 0) {
            tna_color = class_meter.execute(meta.class_id);
        }
        if (tna_color == (bit<8>)MeterColor_t.RED) {
            meta.color = COLOR_RED;
        } else if (tna_color == (bit<8>)MeterColor_t.YELLOW) {
            meta.color = COLOR_YELLOW;
        } else {
            meta.color = COLOR_GREEN;
        }

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
            color_action.apply();
        }
        if (meta.drop == 1) {
            exit;
        }
        write_dscp.apply(hdr, meta);

        phb.apply();

        /* A miss drops in the apply block as on BMv2, where tables with an
         * action profile cannot have a default action. */
        if (hdr.ipv4.isValid()) {
            if (hdr.ipv4.ttl <= 1) {
                drop();
                exit;
            }
            if (ipv4_lpm.apply().hit) {
                hdr.ipv4.ttl = hdr.ipv4.ttl - 1;
            } else {
                drop();
            }
        } else {
            if (hdr.ipv6.hop_limit <= 1) {
                drop();
                exit;
            }
            if (ipv6_lpm.apply().hit) {
                hdr.ipv6.hop_limit = hdr.ipv6.hop_limit - 1;
            } else {
                drop();
            }
        }

        hdr.bridge.setValid();
        hdr.bridge.class_id = meta.class_id;
        hdr.bridge._pad = 0;
        hdr.bridge.queue = meta.queue;
    }
}

control QosIngressDeparser(packet_out pkt, inout qos_headers_t hdr, in qos_meta_t meta,
                           in ingress_intrinsic_metadata_for_deparser_t ig_dprsr_md) {
    Checksum() ipv4_checksum;

    apply {
        if (hdr.ipv4.isValid()) {
            hdr.ipv4.hdr_checksum = ipv4_checksum.update({
                hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.dscp, hdr.ipv4.ecn,
                hdr.ipv4.total_len, hdr.ipv4.identification, hdr.ipv4.flags,
                hdr.ipv4.frag_offset, hdr.ipv4.ttl, hdr.ipv4.protocol,
                hdr.ipv4.src_addr, hdr.ipv4.dst_addr });
        }
        /* Valid headers in struct order: hdr.bridge first. */
        pkt.emit(hdr);
    }
}

/* ------------------------------------------------------------------- egress */

parser QosEgressParser(packet_in pkt, out qos_headers_t hdr, out qos_meta_t meta,
                       out egress_intrinsic_metadata_t eg_intr_md) {
    QosHeaderParser() qos_header_parser;

    state start {
        hdr.bridge.setInvalid();
        hdr.packet_in.setInvalid();
        hdr.packet_out.setInvalid();
        hdr.ethernet.setInvalid();
        hdr.vlan.setInvalid();
        hdr.ipv4.setInvalid();
        hdr.ipv6.setInvalid();
        hdr.tcp.setInvalid();
        hdr.udp.setInvalid();
        pkt.extract(eg_intr_md);
        pkt.extract(hdr.bridge);
        qos_header_parser.apply(pkt, hdr);
        transition accept;
    }
}

control QosEgress(inout qos_headers_t hdr, inout qos_meta_t meta,
                  in egress_intrinsic_metadata_t eg_intr_md,
                  in egress_intrinsic_metadata_from_parser_t eg_prsr_md,
                  inout egress_intrinsic_metadata_for_deparser_t eg_dprsr_md,
                  inout egress_intrinsic_metadata_for_output_port_t eg_oport_md) {
    Counter<bit<64>, bit<8>>(QOS_CLASSES, CounterType_t.PACKETS_AND_BYTES) class_counter;
    Counter<bit<64>, bit<12>>(QUEUE_COUNTERS, CounterType_t.PACKETS_AND_BYTES) queue_counter;
    bit<32> ecn_depth;
    bit<19> ecn_margin;

    /* "depth >= threshold", as v1model tests it, in a form Tofino can run.
     * A gateway compares PHV bits with constants: bf-p4c rejects
     * "enq_qdepth >= ecn_threshold" ("condition too complex, one operand
     * ... must be constant"), and a saturating difference computed in the
     * apply block is propagated back into the condition ("condition
     * expression too complex"). So this action's ALU computes
     * threshold |-| depth, 0 exactly when depth >= threshold, and the apply
     * block tests it for 0. The ALU subtracts whole 32-bit containers: the
     * parser fills the upper bits of enq_qdepth's container with the
     * neighbouring intrinsic metadata (egress_port), which would saturate
     * the difference to 0, so the subtrahend is ecn_depth, a zero-extended
     * copy made in the apply block (docs/targets.md, "What bf-p4c made the
     * TNA program change"). */
    action set_ecn_threshold(bit<19> threshold) {
        meta.ecn_enabled = 1;
        meta.ecn_threshold = threshold;
        ecn_margin = threshold |-| ecn_depth[18:0];
    }

    table ecn_threshold {
        key = {
            eg_intr_md.egress_port : exact @name("egress_port");
            meta.queue             : exact @name("queue");
        }
        actions = {
            set_ecn_threshold;
            NoAction;
        }
        default_action = NoAction();
        size = ECN_THRESHOLD_SIZE;
    }

    apply {
        meta.class_id = hdr.bridge.class_id;
        meta.queue = hdr.bridge.queue;
        hdr.bridge.setInvalid();

        class_counter.count(meta.class_id);
        queue_counter.count((bit<9>)eg_intr_md.egress_port ++ meta.queue);

        meta.ecn_enabled = 0;
        meta.ecn_threshold = 0;
        ecn_margin = 0;
        ecn_depth = (bit<32>)eg_intr_md.enq_qdepth; /* zero-extended: see set_ecn_threshold */
        ecn_threshold.apply();
        /* Enqueue depth >= threshold (set_ecn_threshold). RFC 3168 section
         * 5: only ECN-capable packets may be marked. */
        if (meta.ecn_enabled == 1 && ecn_margin == 0) {
            if (hdr.ipv4.isValid() && hdr.ipv4.ecn != ECN_NOT_ECT) {
                hdr.ipv4.ecn = ECN_CE;
            } else if (hdr.ipv6.isValid() && hdr.ipv6.ecn != ECN_NOT_ECT) {
                hdr.ipv6.ecn = ECN_CE;
            }
        }
    }
}

control QosEgressDeparser(packet_out pkt, inout qos_headers_t hdr, in qos_meta_t meta,
                          in egress_intrinsic_metadata_for_deparser_t eg_dprsr_md) {
    Checksum() ipv4_checksum;

    apply {
        if (hdr.ipv4.isValid()) {
            hdr.ipv4.hdr_checksum = ipv4_checksum.update({
                hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.dscp, hdr.ipv4.ecn,
                hdr.ipv4.total_len, hdr.ipv4.identification, hdr.ipv4.flags,
                hdr.ipv4.frag_offset, hdr.ipv4.ttl, hdr.ipv4.protocol,
                hdr.ipv4.src_addr, hdr.ipv4.dst_addr });
        }
        /* hdr.bridge was invalidated in egress. */
        pkt.emit(hdr);
    }
}

Pipeline(QosIngressParser(), QosIngress(), QosIngressDeparser(),
         QosEgressParser(), QosEgress(), QosEgressDeparser()) pipe;

Switch(pipe) main;
