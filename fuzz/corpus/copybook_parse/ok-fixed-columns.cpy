000100*================================================================*SEQ00001
000200* PAYMENT - fixed format: sequence area, comments, 88s, VALUE,   *SEQ00002
000300*           continuation of a literal, SYNC, USAGE on a group     *SEQ00003
000400*================================================================*SEQ00004
000500 01  PAYMENT-REC.                                                 SEQ00005
000600     05  PAY-ID                  PIC X(10).                       SEQ00006
000700     05  PAY-STATUS              PIC X VALUE 'N'.                 SEQ00007
000800         88  PAY-NEW             VALUE 'N'.                       SEQ00008
000900         88  PAY-DONE            VALUE 'D' 'C'.                   SEQ00009
001000     05  PAY-NOTE                PIC X(40) VALUE 'A LONG LITERAL TSEQ00010
001100-    'T IS CONTINUED'.                                            SEQ00011
001200     05  PAY-AMOUNTS             USAGE COMP-3.                    SEQ00012
001300         10  PAY-GROSS           PIC S9(9)V99.                    SEQ00013
001400         10  PAY-NET             PIC S9(9)V99.                    SEQ00014
001500     05  PAY-SEQ                 PIC S9(8) COMP SYNC.             SEQ00015
001600     66  PAY-ALL RENAMES PAY-ID THRU PAY-STATUS.                  SEQ00016
