package org.alphawatch.scale;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Placement by cost (issue 22: six layers once landed 4/0/2 on three workers by partition count):
 * the heaviest partitions spread first, a balanced placement stays as it is, an unbalanced one
 * moves the fewest partitions to balance, and a cooperative round never gives a member a
 * partition another member still owns.
 */
class CostBalancedAssignorTest {
    static final List<String> MEMBERS = List.of("a", "b", "c");

    static double[] costs(int... dims) {
        double[] c = new double[dims.length];
        for (int i = 0; i < dims.length; i++) {
            c[i] = 1 + (double) dims[i] * dims[i];
        }
        return c;
    }

    static double maxLoad(Map<String, List<Integer>> plan, double[] cost) {
        return plan.values().stream().mapToDouble(ps -> ps.stream().mapToDouble(p -> cost[p]).sum()).max().orElse(0);
    }

    static Map<String, Set<Integer>> nobody() {
        Map<String, Set<Integer>> m = new TreeMap<>();
        MEMBERS.forEach(x -> m.put(x, Set.of()));
        return m;
    }

    @Test
    void theHeaviestPartitionsSpreadFirst() {
        double[] cost = costs(2048, 512, 512, 256, 256, 128);
        Map<String, List<Integer>> plan = CostBalancedAssignor.plan(MEMBERS, nobody(), cost);
        assertThat(plan.values().stream().mapToInt(List::size).sum()).isEqualTo(6);
        // The 2048-unit layer alone is the lower bound; by count (2 each) it would share a worker.
        assertThat(maxLoad(plan, cost)).isEqualTo(cost[0]);
        assertThat(plan.values()).anySatisfy(ps -> assertThat(ps).containsExactly(0));
    }

    @Test
    void emptyPartitionsSpreadByCount() {
        double[] cost = new double[8];
        java.util.Arrays.fill(cost, 1);
        Map<String, List<Integer>> plan = CostBalancedAssignor.plan(MEMBERS, nobody(), cost);
        assertThat(plan.values().stream().map(List::size).sorted().toList()).containsExactly(2, 3, 3);
    }

    @Test
    void aBalancedPlacementStaysAndAnUnbalancedOneMovesAsLittleAsItMust() {
        double[] cost = costs(512, 512, 512, 128, 128, 128);
        Map<String, Set<Integer>> balanced = new TreeMap<>(Map.of("a", Set.of(0, 3), "b", Set.of(1, 4), "c", Set.of(2, 5)));
        Map<String, List<Integer>> same = CostBalancedAssignor.plan(MEMBERS, balanced, cost);
        balanced.forEach((m, ps) -> assertThat(new HashSet<>(same.get(m))).as(m).isEqualTo(ps));

        // a owns everything, b and c just joined.
        Map<String, Set<Integer>> lopsided = new TreeMap<>(Map.of("a", Set.of(0, 1, 2, 3, 4, 5), "b", Set.of(), "c",
                Set.of()));
        Map<String, List<Integer>> target = CostBalancedAssignor.plan(MEMBERS, lopsided, cost);
        assertThat(maxLoad(target, cost)).isEqualTo(cost[0] + cost[3]);
        // Round 1 (cooperative): b and c get nothing a still owns; a keeps its target.
        assertThat(CostBalancedAssignor.cooperative("b", target, lopsided)).isEmpty();
        assertThat(CostBalancedAssignor.cooperative("c", target, lopsided)).isEmpty();
        List<Integer> aKeeps = CostBalancedAssignor.cooperative("a", target, lopsided);
        assertThat(aKeeps).containsExactlyInAnyOrderElementsOf(target.get("a"));
        // Round 2: a revoked the rest; they are free now and land where the plan put them.
        Map<String, Set<Integer>> after = new TreeMap<>(Map.of("a", new HashSet<>(aKeeps), "b", Set.of(), "c", Set.of()));
        Map<String, List<Integer>> second = CostBalancedAssignor.plan(MEMBERS, after, cost);
        assertThat(maxLoad(second, cost)).isEqualTo(cost[0] + cost[3]);
        Set<Integer> all = new HashSet<>();
        second.values().forEach(all::addAll);
        assertThat(all).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5);
    }

    @Test
    void costsAreReadFromThePartitionCheckpointsHeaders(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        String topic = "t";
        PartitionCheckpoints store = new PartitionCheckpoints(tmp.resolve("partitions"), topic, "id");
        int[] dims = {64, 8, 8, 8};
        try (org.alphawatch.pipeline.Monitor monitor = new org.alphawatch.pipeline.Monitor(
                org.alphawatch.pipeline.MonitorConfig.defaults(), new org.alphawatch.core.spectrum.EjmlEigenSolver(),
                org.alphawatch.pipeline.MonitorObserver.NONE, reactor.core.scheduler.Schedulers.immediate(),
                reactor.core.scheduler.Schedulers.immediate(), reactor.core.scheduler.Schedulers.immediate())) {
            for (int p = 0; p < dims.length; p++) {
                var key = new org.alphawatch.pipeline.LayerKey("r", "l" + p);
                double[] x = new double[10 * dims[p]];
                for (int i = 0; i < x.length; i++) {
                    x[i] = Math.sin(i * 0.7 + p);
                }
                assertThat(monitor.ingest().offer(org.alphawatch.pipeline.ActivationBatch.train(key, 1,
                        org.alphawatch.io.NpyArray.ofDoubles(x, 10, dims[p]))).ok()).isTrue();
                int partition = p;
                store.save(p, 1, 0, monitor.recovery().captureLayers(k -> k.equals(key), java.time.Duration.ofMinutes(1)));
            }
        }
        CostBalancedAssignor assignor = new CostBalancedAssignor();
        assignor.configure(Map.of(CostBalancedAssignor.STATE_DIR, tmp.toString(), CostBalancedAssignor.TOPIC, topic));
        org.apache.kafka.common.Node node = new org.apache.kafka.common.Node(0, "h", 1);
        List<org.apache.kafka.common.PartitionInfo> infos = new java.util.ArrayList<>();
        for (int p = 0; p < dims.length; p++) {
            infos.add(new org.apache.kafka.common.PartitionInfo(topic, p, node, new org.apache.kafka.common.Node[] {node},
                    new org.apache.kafka.common.Node[] {node}));
        }
        var cluster = new org.apache.kafka.common.Cluster("c", List.of(node), infos, Set.of(), Set.of());
        var subscriptions = new org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.GroupSubscription(Map.of(
                "a", new org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription(List.of(topic)),
                "b", new org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription(List.of(topic))));
        var result = assignor.assign(cluster, subscriptions).groupAssignment();
        List<Integer> sizes = result.values().stream().map(a -> a.partitions().size()).sorted().toList();
        // By cost the 64-unit layer (4097) outweighs the three 8-unit ones (3 x 65): 1 and 3, not 2 and 2.
        assertThat(sizes).containsExactly(1, 3);
        assertThat(result.values()).anySatisfy(a -> assertThat(a.partitions())
                .containsExactly(new org.apache.kafka.common.TopicPartition(topic, 0)));
    }
}
