package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Module;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.SequencedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Sequential's child names: the index when built from a list, the map's keys (in its order) when
 * built from one, as PyTorch's {@code Sequential(OrderedDict(...))}: they prefix the state_dict
 * keys, label the repr lines and name the child in messages.
 */
class SequentialNamesTest {
    private static Sequential named() {
        SequencedMap<String, Module> children = new LinkedHashMap<>();
        children.put("features", new Sequential(new Conv2d(3, 4, 3), new ReLU()));
        children.put("flatten", new Flatten());
        children.put("classifier", new Linear(4 * 6 * 6, 2, true));
        return new Sequential(children);
    }

    @Test
    void parametersArePrefixedWithTheNames() {
        try (Sequential s = named()) {
            assertEquals(List.of("features.0.weight", "features.0.bias", "classifier.weight", "classifier.bias"),
                    List.copyOf(s.parameters().keySet()));
            assertSame(((Linear) s.namedModules().get("classifier")).weight(), s.parameters().get("classifier.weight"));
        }
    }

    @Test
    void reprShowsTheNames() {
        try (Sequential s = named()) {
            // torch.nn.Sequential(OrderedDict(features=nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()), flatten=nn.Flatten(),
            //                                 classifier=nn.Linear(144, 2)))
            assertEquals("""
                    Sequential(
                      (features): Sequential(
                        (0): Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1))
                        (1): ReLU()
                      )
                      (flatten): Flatten(start_dim=1, end_dim=-1)
                      (classifier): Linear(in_features=144, out_features=2, bias=True)
                    )""", s.toString());
        }
    }

    @Test
    void namedModulesKeepTheMapsOrderAndListChildrenAreIndexed() {
        TreeMap<String, Module> sorted = new TreeMap<>();
        sorted.put("b", new ReLU());
        sorted.put("a", new Tanh());
        try (Sequential s = new Sequential(sorted); Sequential listed = new Sequential(new ReLU(), new Tanh())) {
            assertEquals(List.of("a", "b"), List.copyOf(s.namedModules().keySet()));
            assertEquals(List.of(s.namedModules().get("a"), s.namedModules().get("b")), s.modules());
            assertEquals(List.of("0", "1"), List.copyOf(listed.namedModules().keySet()));
            assertThrows(UnsupportedOperationException.class, () -> s.namedModules().put("c", new ReLU()));
        }
    }

    @Test
    void theMapIsCopied() {
        LinkedHashMap<String, Module> children = new LinkedHashMap<>();
        children.put("relu", new ReLU());
        try (Sequential s = new Sequential(children)) {
            children.put("tanh", new Tanh());
            assertEquals(List.of("relu"), List.copyOf(s.namedModules().keySet()));
            children.get("tanh").close();
        }
    }

    @Test
    void aMisfitNamesTheChild() {
        try (Sequential s = named()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.outputShape(1, 3, 9, 9));
            assertTrue(e.getMessage().startsWith("Sequential(3 modules), classifier: Linear(in_features=144"), e.getMessage());
            IllegalArgumentException inner = assertThrows(IllegalArgumentException.class, () -> s.outputShape(1, 2, 8, 8));
            assertTrue(inner.getMessage().startsWith("Sequential(3 modules), features: Sequential(2 modules), module 0: Conv2d"),
                    inner.getMessage());
            assertArrayEquals(new long[] {5, 2}, s.outputShape(5, 3, 8, 8));
        }
    }

    @Test
    void badNamesAreRefusedAsPyTorchRefusesThem() {
        for (String bad : new String[] {"", "a.b", null}) {
            LinkedHashMap<String, Module> children = new LinkedHashMap<>();
            try (ReLU relu = new ReLU()) {
                children.put(bad, relu);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Sequential(children));
                assertTrue(e.getMessage().startsWith("Sequential: a module name must be non-empty and contain no '.'"), e.getMessage());
            }
        }
        LinkedHashMap<String, Module> nullChild = new LinkedHashMap<>();
        nullChild.put("x", null);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Sequential(nullChild)).getMessage().contains("module 'x' must not be null"));
        assertThrows(IllegalArgumentException.class, () -> new Sequential(new LinkedHashMap<String, Module>()));
    }
}
