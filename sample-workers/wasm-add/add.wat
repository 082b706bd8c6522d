;; add.wasm is built from this file (the tests check that the two match).
(module
  (func (export "add") (param $a i32) (param $b i32) (result i32)
    local.get $a
    local.get $b
    i32.add))
