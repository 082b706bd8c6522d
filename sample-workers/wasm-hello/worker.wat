;; A pure WebAssembly worker (no JavaScript), following the ABI in the README:
;;   exports memory, alloc(size) -> ptr, fetch(request_ptr, request_len) -> result_ptr,
;;   where result_ptr points at two little-endian u32s: response_ptr, response_len.
;; It answers "Hello from WebAssembly! You sent: <the request line>".
;; worker.wasm is built from this file (the tests check that the two match).
(module
  (memory (export "memory") 2)
  ;; 0..1023: the response prefix and the result pair; the bump heap starts at 4096.
  (data (i32.const 16) "200\0acontent-type: text/plain; charset=utf-8\0a\0aHello from WebAssembly! You sent: ")
  (global $prefix_len i32 (i32.const 79))
  (global $heap (mut i32) (i32.const 4096))

  ;; A bump allocator: memory is never freed, and grows when needed.
  (func $alloc (export "alloc") (param $size i32) (result i32)
    (local $ptr i32)
    (local $end i32)
    global.get $heap
    local.set $ptr
    local.get $ptr
    local.get $size
    i32.add
    local.set $end
    ;; grow while the end lies beyond memory
    (block $done
      (loop $grow
        local.get $end
        memory.size
        i32.const 65536
        i32.mul
        i32.le_u
        br_if $done
        i32.const 1
        memory.grow
        i32.const -1
        i32.eq
        if
          unreachable
        end
        br $grow))
    local.get $end
    global.set $heap
    local.get $ptr)

  ;; copy $n bytes from $src to $dst, one at a time
  (func $copy (param $dst i32) (param $src i32) (param $n i32)
    (local $i i32)
    (block $done
      (loop $next
        local.get $i
        local.get $n
        i32.ge_u
        br_if $done
        local.get $dst
        local.get $i
        i32.add
        local.get $src
        local.get $i
        i32.add
        i32.load8_u
        i32.store8
        local.get $i
        i32.const 1
        i32.add
        local.set $i
        br $next)))

  (func (export "fetch") (param $req i32) (param $len i32) (result i32)
    (local $line i32)
    (local $out i32)
    ;; the request line: bytes up to the first newline
    (block $found
      (loop $scan
        local.get $line
        local.get $len
        i32.ge_u
        br_if $found
        local.get $req
        local.get $line
        i32.add
        i32.load8_u
        i32.const 10
        i32.eq
        br_if $found
        local.get $line
        i32.const 1
        i32.add
        local.set $line
        br $scan))
    ;; out = prefix ++ request line ++ "\n"
    global.get $prefix_len
    local.get $line
    i32.add
    i32.const 1
    i32.add
    call $alloc
    local.set $out
    local.get $out
    i32.const 16
    global.get $prefix_len
    call $copy
    local.get $out
    global.get $prefix_len
    i32.add
    local.get $req
    local.get $line
    call $copy
    local.get $out
    global.get $prefix_len
    i32.add
    local.get $line
    i32.add
    i32.const 10
    i32.store8
    ;; the result pair at address 8
    i32.const 8
    local.get $out
    i32.store
    i32.const 12
    global.get $prefix_len
    local.get $line
    i32.add
    i32.const 1
    i32.add
    i32.store
    i32.const 8))
