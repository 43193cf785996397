package org.alphawatch.scale;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Configurable;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Places partitions on workers by what their layers cost, not by how many there are: a partition
 * weighs the memory of its layers' windows (the sum of d^2 over its layers, read from the headers
 * of the partition checkpoints in the shared state directory; one unit for an empty partition, so
 * that empty ones spread by count). Sticky: a worker keeps what it owns unless moving a partition
 * to the least loaded worker lowers the most loaded one by more than {@link #MIN_GAIN} of the
 * total; new and orphaned partitions go, heaviest first, to the least loaded worker.
 * Cooperative: a partition moving from a live owner is left unassigned in this round (its owner
 * revokes it, checkpointing it) and assigned in the follow-up round. Thread-safe (stateless besides
 * its configuration).
 */
public final class CostBalancedAssignor implements ConsumerPartitionAssignor, Configurable {
    private static final Logger LOG = LoggerFactory.getLogger(CostBalancedAssignor.class);
    /** The consumer property holding the shared state directory (where the costs are read). */
    public static final String STATE_DIR = "alphawatch.state.dir";
    public static final String TOPIC = "alphawatch.topic";
    /** A move must lower the heaviest worker's load by more than this share of the total. */
    static final double MIN_GAIN = 0.01;

    private Path partitionsDir;
    private String topic;

    @Override
    public void configure(Map<String, ?> configs) {
        Object dir = configs.get(STATE_DIR);
        partitionsDir = dir == null ? null : Path.of(dir.toString()).resolve("partitions");
        Object t = configs.get(TOPIC);
        topic = t == null ? null : t.toString();
    }

    @Override
    public String name() {
        return "alphawatch-cost";
    }

    @Override
    public List<RebalanceProtocol> supportedProtocols() {
        return List.of(RebalanceProtocol.COOPERATIVE, RebalanceProtocol.EAGER);
    }

    @Override
    public GroupAssignment assign(Cluster metadata, GroupSubscription subscriptions) {
        Map<String, Subscription> members = new TreeMap<>(subscriptions.groupSubscription());
        String t = topic != null ? topic : members.values().iterator().next().topics().get(0);
        Integer count = metadata.partitionCountForTopic(t);
        int partitions = count == null ? 0 : count;
        double[] cost = new double[partitions];
        for (int p = 0; p < partitions; p++) {
            cost[p] = 1 + layerMemory(t, p);
        }
        Map<String, Set<Integer>> owned = new TreeMap<>();
        members.forEach((m, s) -> {
            Set<Integer> mine = new TreeSet<>();
            for (TopicPartition tp : s.ownedPartitions()) {
                if (tp.topic().equals(t) && tp.partition() < partitions) {
                    mine.add(tp.partition());
                }
            }
            owned.put(m, mine);
        });
        Map<String, List<Integer>> target = plan(new ArrayList<>(members.keySet()), owned, cost);
        Map<String, Assignment> out = new HashMap<>();
        for (String m : members.keySet()) {
            List<TopicPartition> now = new ArrayList<>();
            for (int p : cooperative(m, target, owned)) {
                now.add(new TopicPartition(t, p));
            }
            out.put(m, new Assignment(now));
        }
        LOG.info("placement by cost: {}", target);
        return new GroupAssignment(out);
    }

    /**
     * The target placement: sticky, then heaviest new partitions first to the least loaded member,
     * then moves from the heaviest to the lightest member while they lower its load by more than
     * {@link #MIN_GAIN} of the total. Deterministic for the same inputs.
     */
    static Map<String, List<Integer>> plan(List<String> members, Map<String, Set<Integer>> owned, double[] cost) {
        Map<String, Set<Integer>> target = new TreeMap<>();
        Map<String, Double> load = new TreeMap<>();
        Set<Integer> taken = new TreeSet<>();
        for (String m : members) {
            Set<Integer> keep = new TreeSet<>();
            for (int p : owned.getOrDefault(m, Set.of())) {
                if (taken.add(p)) { // a partition two members claim (a lost one) stays with the first
                    keep.add(p);
                }
            }
            target.put(m, keep);
            load.put(m, keep.stream().mapToDouble(p -> cost[p]).sum());
        }
        List<Integer> free = new ArrayList<>();
        for (int p = 0; p < cost.length; p++) {
            if (!taken.contains(p)) {
                free.add(p);
            }
        }
        free.sort((a, b) -> Double.compare(cost[b], cost[a]));
        for (int p : free) {
            String m = lightest(members, load, target);
            target.get(m).add(p);
            load.merge(m, cost[p], Double::sum);
        }
        double total = 0;
        for (double c : cost) {
            total += c;
        }
        for (int round = 0; round < cost.length; round++) {
            String heavy = members.get(0);
            for (String m : members) {
                if (load.get(m) > load.get(heavy)) {
                    heavy = m;
                }
            }
            String light = lightest(members, load, target);
            double gap = load.get(heavy) - load.get(light);
            int best = -1;
            double bestGain = MIN_GAIN * total;
            for (int p : target.get(heavy)) {
                // Moving p changes the pair's larger load to max(heavy - c, light + c).
                double gain = load.get(heavy) - Math.max(load.get(heavy) - cost[p], load.get(light) + cost[p]);
                if (cost[p] < gap && gain > bestGain) {
                    best = p;
                    bestGain = gain;
                }
            }
            if (best < 0) {
                break;
            }
            target.get(heavy).remove(best);
            target.get(light).add(best);
            load.merge(heavy, -cost[best], Double::sum);
            load.merge(light, cost[best], Double::sum);
        }
        Map<String, List<Integer>> out = new TreeMap<>();
        target.forEach((m, ps) -> out.put(m, new ArrayList<>(ps)));
        return out;
    }

    private static String lightest(List<String> members, Map<String, Double> load, Map<String, Set<Integer>> target) {
        String best = members.get(0);
        for (String m : members) {
            int c = Double.compare(load.get(m), load.get(best));
            if (c < 0 || c == 0 && target.get(m).size() < target.get(best).size()) {
                best = m;
            }
        }
        return best;
    }

    /** What {@code member} gets in this round: its target, less partitions another member still owns. */
    static List<Integer> cooperative(String member, Map<String, List<Integer>> target, Map<String, Set<Integer>> owned) {
        List<Integer> out = new ArrayList<>();
        for (int p : target.getOrDefault(member, List.of())) {
            boolean ownedElsewhere = false;
            for (Map.Entry<String, Set<Integer>> e : owned.entrySet()) {
                if (!e.getKey().equals(member) && e.getValue().contains(p)) {
                    ownedElsewhere = true;
                }
            }
            if (!ownedElsewhere) {
                out.add(p);
            }
        }
        return out;
    }

    /** Sum of d^2 over the layers of a partition's checkpoint, read from their headers only; 0 without one. */
    private double layerMemory(String t, int partition) {
        if (partitionsDir == null) {
            return 0;
        }
        Path f = partitionsDir.resolve(t + "-" + partition + ".ckpt");
        if (!Files.exists(f)) {
            return 0;
        }
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            ByteBuffer head = read(ch, 0, 4096);
            int at = 8; // magic, version, reserved
            at += 2 + (head.getShort(at) & 0xffff); // topic
            int version = head.getShort(4);
            if (version >= PartitionCheckpoints.VERSION) {
                at += 2 + (head.getShort(at) & 0xffff); // topic id
            }
            at += 4 + 8 + (version >= PartitionCheckpoints.VERSION ? 4 : 0); // partition, offset, epoch
            int layers = head.getInt(at);
            long pos = at + 4;
            double sum = 0;
            for (int i = 0; i < layers; i++) {
                ByteBuffer block = read(ch, pos, 300);
                int length = block.getInt(0);
                int s = 4 + 6; // block length, then the layer state's magic and version
                s += 2 + (block.getShort(s) & 0xffff); // run
                s += 2 + (block.getShort(s) & 0xffff); // layer
                double d = block.getInt(s);
                sum += d * d;
                pos += 4 + (long) length;
            }
            return sum;
        } catch (Exception e) {
            LOG.debug("cost of {} unknown: {}", f.getFileName(), e.toString());
            return 0; // the worker that takes it will report an unreadable checkpoint
        }
    }

    private static ByteBuffer read(FileChannel ch, long pos, int max) throws java.io.IOException {
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(max, Math.max(0, ch.size() - pos))).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining() && ch.read(b, pos + b.position()) > 0) {
            // fill
        }
        b.flip();
        return b;
    }
}
